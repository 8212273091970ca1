// Load-generator worker (forked by the orchestrator, driven over IPC). Opens sockets with the
// `ws` client from several loopback source addresses, reads the send time out of every frame
// and keeps latency samples. Speaks three dialects with the same client:
//   gateway: `['bearer', <JWT>]` subprotocols on /ws
//   bare:    /ws?user=&role= (no auth)
//   bare-jwt: like the gateway (bare ws verifying the token)
//   sio:     Engine.IO v4 / Socket.IO v5 over a plain websocket (/socket.io/?EIO=4&transport=websocket)
import WebSocket from 'ws';
import { sentAt } from '../lib/envelope.mjs';
import { secretKey, userToken } from '../lib/tokens.mjs';

/**
 * @typedef {import('../lib/ipc.ts').LoadGenProtocol} LoadGenProtocol
 * @typedef {WebSocket & { benchUser?: string, benchClosing?: boolean }} LoadSocket
 */

/** @type {LoadSocket[]} */
const sockets = [];
/** @type {number[]} */
let latencies = [];
let received = 0;
let unexpectedCloses = 0;
/** @type {Record<string, number>} */
let closeCodes = {};
/** @type {string[]} */
let tokens = [];
let sampleEvery = 1;
/**
 * Presence answers received while phase (5) sets watches; undefined otherwise.
 * @type {number | undefined}
 */
let presenceAnswers;

/** Each socket watches (or stops watching) its own user's room (what a customer may watch); waits for every answer. */
async function presence(/** @type {LoadGenProtocol['presence']['args']} */ { watch }) {
  presenceAnswers = 0;
  let sent = 0;
  for (const ws of sockets) {
    ws.send(JSON.stringify({ type: 'presence', payload: { room: `user:${ws.benchUser}`, watch } }));
    sent++;
  }
  const deadline = Date.now() + 60_000;
  while ((presenceAnswers ?? 0) < sent && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  const missing = sent - (presenceAnswers ?? 0);
  presenceAnswers = undefined;
  return { sent, missing };
}

/**
 * Answers the orchestrator.
 * @template {keyof LoadGenProtocol & string} C
 * @param {import('../lib/ipc.ts').Reply<LoadGenProtocol, C> | import('../lib/ipc.ts').Failure | { ready: true }} message
 */
function send(message) {
  process.send?.(message);
}

/** @param {WebSocket.RawData} data a Buffer (the client's default binaryType) */
function onMessage(data) {
  const bytes = /** @type {Buffer} */ (data);
  // Presence answers (phase 5) are not deliveries: counted apart, only while the phase runs.
  if (presenceAnswers !== undefined && bytes.toString('latin1', 0, 17) === '{"type":"presence') return void presenceAnswers++;
  received++;
  if (received % sampleEvery !== 0) return;
  const text = bytes.toString('latin1');
  const t = sentAt(text);
  if (t !== undefined) latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
}

/** @this {WebSocket} @param {WebSocket.RawData} data */
function sioMessage(data) {
  const text = /** @type {Buffer} */ (data).toString('latin1');
  if (text === '2') return this.send('3'); // Engine.IO ping → pong
  if (text.startsWith('42')) {
    received++;
    if (received % sampleEvery !== 0) return;
    const t = sentAt(text);
    if (t !== undefined) latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
}

/** @this {WebSocket} @param {number} code */
function onUnexpectedClose(code) {
  if (!(/** @type {LoadSocket} */ (this).benchClosing)) {
    unexpectedCloses++;
    closeCodes[code] = (closeCodes[code] ?? 0) + 1;
  }
}

/**
 * Opens one socket; resolves with it, or with why it failed.
 * @param {{ kind: import('../lib/ipc.ts').Dialect, url: string, index: number, localAddress: string | undefined, role: import('@payments-system/protocol').Role }} target
 * @returns {Promise<LoadSocket | string>}
 */
function openOne({ kind, url, index, localAddress, role }) {
  return new Promise((resolve) => {
    const user = `u${index}`;
    /** @type {LoadSocket} */
    let ws;
    const options = { localAddress, perMessageDeflate: false, handshakeTimeout: 30000 };
    const remember = (/** @type {LoadSocket} */ socket) => ((socket.benchUser = user), socket);
    if (kind === 'gateway' || kind === 'bare-jwt') ws = new WebSocket(`${url}/ws`, ['bearer', tokens[index]], options);
    else if (kind === 'bare') ws = new WebSocket(`${url}/ws?user=${user}&role=${role}`, options);
    else ws = new WebSocket(`${url}/socket.io/?EIO=4&transport=websocket&user=${user}&role=${role}`, options);
    let settled = false;
    const done = (/** @type {boolean} */ ok, /** @type {string} */ why = '') => {
      if (settled) return;
      settled = true;
      if (!ok) ws.terminate();
      resolve(ok ? remember(ws) : why);
    };
    ws.once('error', (/** @type {NodeJS.ErrnoException} */ error) => done(false, error.code ?? error.message));
    ws.once('unexpected-response', (_req, res) => done(false, `HTTP ${res.statusCode}`));
    if (kind === 'sio') {
      ws.once('open', () => {
        ws.on('message', function first(data) {
          const text = data.toString();
          if (text.startsWith('0')) ws.send('40');
          else if (text.startsWith('40')) {
            ws.off('message', first);
            ws.on('message', sioMessage);
            done(true);
          }
        });
      });
    } else {
      ws.once('open', () => {
        ws.on('message', onMessage);
        done(true);
      });
    }
    ws.on('close', onUnexpectedClose);
  });
}

/** @param {LoadGenProtocol['connect']['args']} args */
async function connect({ kind, url, from, count, sourceAddresses, concurrency, vendorBelow }) {
  const started = process.hrtime.bigint();
  let next = 0;
  let failed = 0;
  /** @type {Record<string, number>} */
  const errors = {};
  /** @type {LoadSocket[]} */
  const opened = [];
  async function lane() {
    while (next < count) {
      const i = next++;
      const index = from + i;
      const localAddress = sourceAddresses[index % sourceAddresses.length];
      const result = await openOne({ kind, url, index, localAddress, role: index < vendorBelow ? 'VENDOR' : 'CUSTOMER' });
      if (typeof result === 'object') opened.push(result);
      else {
        failed++;
        errors[result] = (errors[result] ?? 0) + 1;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  sockets.push(...opened);
  return { opened: opened.length, failed, errors, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

process.on('message', async (/** @type {import('../lib/ipc.ts').Request<LoadGenProtocol> | { cmd: 'exit', seq: number }} */ message) => {
  const { seq } = message;
  try {
    if (message.cmd === 'tokens') {
      // Signed before any timing starts; the gateway's verify is what is measured.
      const key = secretKey(message.secret);
      tokens = [];
      for (let index = message.from; index < message.from + message.count; index++) {
        const role = index < message.vendorBelow ? 'VENDOR' : 'CUSTOMER';
        tokens[index] = userToken(key, `u${index}`, role);
      }
      send({ seq, ok: true });
    } else if (message.cmd === 'connect') {
      send({ seq, ...(await connect(message)) });
    } else if (message.cmd === 'reset') {
      latencies = [];
      received = 0;
      sampleEvery = message.sampleEvery ?? 1;
      send({ seq, ok: true });
    } else if (message.cmd === 'count') {
      send({ seq, received, open: sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length, unexpectedCloses, closeCodes });
    } else if (message.cmd === 'cpu') {
      const { user, system } = process.cpuUsage();
      send({ seq, cpuMicros: user + system });
    } else if (message.cmd === 'presence') {
      send({ seq, ...(await presence(message)) });
    } else if (message.cmd === 'latencies') {
      send({ seq, latencies });
    } else if (message.cmd === 'close') {
      // Close the last `count` sockets (or all): terminate, as a client that goes away.
      const n = message.count ?? sockets.length;
      const closing = sockets.splice(sockets.length - n, n);
      for (const ws of closing) {
        ws.benchClosing = true;
        ws.terminate();
      }
      send({ seq, closed: closing.length });
    } else if (message.cmd === 'exit') {
      process.exit(0);
    }
  } catch (error) {
    send({ seq, error: String(error instanceof Error ? error.stack : error) });
  }
});
// The orchestrator is gone: so is this worker.
process.on('disconnect', () => process.exit(0));
send({ ready: true });
