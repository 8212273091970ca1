// Karma-side helper: runs the REAL TypeScript gateway (loaded through tsx) for browser specs, and exposes a
// same-origin control API on Karma's own server so specs can mint tokens, publish events and restart it.
//
//   GET  /__gateway/info                                  → { wsUrl, port, running }
//   GET  /__gateway/token?userId=&role=&ttl=&email=        → { token }   (ttl in seconds, may be negative: expired)
//   POST /__gateway/publish   { room, type, payload }      → { id }
//   POST /__gateway/stop                                  → { ok }  (closes every socket with 1001)
//   POST /__gateway/start                                 → { ok }  (same port)
//   POST /__gateway/restart                               → { ok }  (stop + start)
'use strict';

const SECRET = 'karma-only-secret-0123456789abcdef0123456789';

async function createGatewayControl() {
  const { tsImport } = await import('tsx/esm/api'); // require('tsx/esm/api') is broken in tsx 4.23
  const { startGateway } = await tsImport('../gateway/src/server.ts', __filename);
  const { signAccessToken } = await tsImport('../gateway/src/auth/tokens.ts', __filename);
  const options = { jwtSecret: SECRET, port: 0, host: '127.0.0.1', logLevel: 'silent' };
  let gateway = await startGateway(options);
  const port = gateway.port;
  const wsUrl = gateway.wsUrl;
  let running = true;

  async function stop() {
    if (!running) return;
    running = false;
    await gateway.close();
  }
  async function start() {
    if (running) return;
    gateway = await startGateway({ ...options, port });
    running = true;
  }

  function readJson(req) {
    return new Promise((resolve, reject) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        try {
          resolve(body ? JSON.parse(body) : {});
        } catch (err) {
          reject(err);
        }
      });
      req.on('error', reject);
    });
  }

  function send(res, status, body) {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.setHeader('cache-control', 'no-store');
    res.end(JSON.stringify(body));
  }

  async function handle(req, res) {
    const url = new URL(req.url, 'http://karma.invalid');
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /__gateway/info':
        return send(res, 200, { wsUrl, port, running });
      case 'GET /__gateway/token': {
        const q = url.searchParams;
        const ttl = Number(q.get('ttl') ?? 600);
        const userId = q.get('userId') ?? 'karma-user';
        const claims = { userId, email: q.get('email') ?? `${userId}@example.test`, role: q.get('role') ?? 'CUSTOMER' };
        return send(res, 200, { token: signAccessToken(SECRET, claims, { expiresInSeconds: ttl }) });
      }
      case 'POST /__gateway/publish': {
        if (!running) return send(res, 503, { error: 'gateway stopped' });
        const id = await gateway.publish(await readJson(req));
        return send(res, 200, { id });
      }
      case 'POST /__gateway/stop':
        await stop();
        return send(res, 200, { ok: true });
      case 'POST /__gateway/start':
        await start();
        return send(res, 200, { ok: true });
      case 'POST /__gateway/restart':
        await stop();
        await start();
        return send(res, 200, { ok: true });
      default:
        return send(res, 404, { error: `no route ${route}` });
    }
  }

  return {
    wsUrl,
    middleware(req, res, next) {
      if (!req.url.startsWith('/__gateway/')) return next();
      handle(req, res).catch((err) => send(res, 500, { error: String(err && err.message ? err.message : err) }));
    },
    close: stop,
  };
}

module.exports = { createGatewayControl };
