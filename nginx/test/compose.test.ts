/**
 * docker-compose.yml and the Dockerfiles, checked without a docker daemon: Debian's
 * docker-compose v1 validates and resolves the file (`config`), and the resolved model is held
 * to the stack's rules. The gateway bundle the image runs is built and run here too.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createClient } from 'redis';
import { parse } from 'yaml';
import { CloseCode } from '@payments-system/protocol';
import { signAccessToken } from '../../gateway/src/auth/tokens.ts';
import { loadConfig } from '../../gateway/src/config.ts';
import { freePort, waitForPort } from '../../gateway/test/support/ports.ts';
import { connect } from '../../gateway/test/support/client.ts';
import { ALICE } from '../../gateway/test/support/gateway.ts';
import { PLACEHOLDERS } from './support/render.ts';
import { NGINX } from './support/run-dir.ts';
import { ROOT } from './support/stack.ts';

const work = mkdtempSync(join(tmpdir(), 'compose-'));
after(() => rmSync(work, { recursive: true, force: true }));
const emptyEnvFile = join(work, 'empty.env');
writeFileSync(emptyEnvFile, '');

const SENTINEL_SECRET = 'sentinel-secret-from-the-environment-0123456789';
const REDIS_SECRET = 'redis-password-from-the-environment';
const REDIS_NODES = ['redis-1', 'redis-2', 'redis-3'];
const SENTINELS = ['sentinel-1', 'sentinel-2', 'sentinel-3'];
const raw = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

/** docker-compose v1 on the project's file, with only `env` (an empty --env-file hides a local .env). */
function compose(args: string[], env: Record<string, string>) {
  return spawnSync('docker-compose', ['--env-file', emptyEnvFile, '-f', join(ROOT, 'docker-compose.yml'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

interface Service {
  build?: { context: string; dockerfile: string };
  command?: string[];
  sysctls?: Record<string, string | number>;
  image?: string;
  restart?: string;
  ports?: Array<{ target: number; published: string | number } | string>;
  expose?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[]; interval?: string; retries?: number };
  depends_on?: Record<string, { condition: string }>;
  networks?: Record<string, unknown>;
  stop_grace_period?: string;
  volumes?: unknown[];
  ulimits?: { nofile?: { soft: number; hard: number } };
}
interface Model {
  services: Record<string, Service>;
  networks: Record<string, { name?: string; internal?: boolean }>;
}

/** What a container's shell receives: compose turns `$$` into `$`. */
const inContainer = (text: string) => text.replaceAll('$$', '$');

const seconds = (duration: string) => Number(/^(\d+)s$/.exec(duration)?.[1] ?? NaN);

describe('docker-compose.yml', () => {
  const resolved = compose(['config'], { JWT_SECRET: SENTINEL_SECRET, REDIS_PASSWORD: REDIS_SECRET, PUBLIC_HOST: 'pay.example.test' });
  const model = (resolved.status === 0 ? parse(resolved.stdout) : { services: {}, networks: {} }) as Model;
  const gateways = ['gateway-1', 'gateway-2'];

  it('is valid for docker-compose v1 (`config -q`), no daemon needed', () => {
    const result = compose(['config', '-q'], { JWT_SECRET: SENTINEL_SECRET, REDIS_PASSWORD: REDIS_SECRET });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(resolved.status, 0, resolved.stderr);
  });

  it('refuses to start without JWT_SECRET or REDIS_PASSWORD, naming it and .env.example', () => {
    const noSecret = compose(['config', '-q'], { REDIS_PASSWORD: REDIS_SECRET });
    assert.notEqual(noSecret.status, 0);
    assert.match(noSecret.stderr, /JWT_SECRET is not set; copy \.env\.example/);
    const noPassword = compose(['config', '-q'], { JWT_SECRET: SENTINEL_SECRET });
    assert.notEqual(noPassword.status, 0);
    assert.match(noPassword.stderr, /REDIS_PASSWORD is not set; copy \.env\.example/);
  });

  it('has nginx, two gateway replicas, three Redis nodes and three Sentinels', () => {
    assert.deepEqual(Object.keys(model.services).sort(), ['gateway-1', 'gateway-2', 'nginx', ...REDIS_NODES, ...SENTINELS].sort());
    const [one, two] = gateways.map((name) => model.services[name]!);
    assert.deepEqual(one, two, 'the replicas are the same service');
    assert.equal(one!.build?.dockerfile, 'gateway/Dockerfile');
    assert.equal(model.services['nginx']!.build?.dockerfile, 'nginx/Dockerfile');
  });

  it('publishes ports from nginx only (80 -> 8080, 443 -> 8443)', () => {
    for (const [name, service] of Object.entries(model.services)) {
      if (name !== 'nginx') assert.equal(service.ports, undefined, `${name} must not publish ports`);
    }
    const ports = model.services['nginx']!.ports!.map((port) => (typeof port === 'string' ? port : `${port.published}:${port.target}`));
    // v1 prints the short form with the bind address and protocol.
    assert.deepEqual(ports.map((port) => port.replace(/^0\.0\.0\.0:/, '').replace(/\/tcp$/, '')).sort(), ['443:8443', '80:8080']);
    for (const name of gateways) assert.deepEqual(model.services[name]!.expose, ['3000']);
  });

  it('gives every service a healthcheck and a restart policy; the gateways check /api/health', () => {
    for (const [name, service] of Object.entries(model.services)) {
      assert.ok(service.healthcheck?.test?.length, `${name}: healthcheck`);
      assert.ok(['always', 'unless-stopped', 'on-failure'].includes(service.restart ?? ''), `${name}: restart policy`);
    }
    for (const name of gateways) assert.match(model.services[name]!.healthcheck!.test.join(' '), /http:\/\/127\.0\.0\.1:3000\/api\/health/);
    for (const name of REDIS_NODES) assert.match(inContainer(model.services[name]!.healthcheck!.test.join(' ')), /redis-cli .*-a "\$REDIS_PASSWORD" ping/);
    for (const name of SENTINELS) assert.match(model.services[name]!.healthcheck!.test.join(' '), /redis-cli -p 26379 sentinel get-master-addr-by-name mymaster/);
    assert.match(model.services['nginx']!.healthcheck!.test.join(' '), /nginx-status/);
  });

  it('starts nginx only once both gateways are healthy', () => {
    assert.deepEqual(model.services['nginx']!.depends_on, {
      'gateway-1': { condition: 'service_healthy' },
      'gateway-2': { condition: 'service_healthy' },
    });
  });

  it('gives the gateways time to drain: stop_grace_period above SHUTDOWN_TIMEOUT_MS', () => {
    for (const name of gateways) {
      const service = model.services[name]!;
      assert.ok(seconds(service.stop_grace_period ?? '10s') * 1000 > Number(service.environment!['SHUTDOWN_TIMEOUT_MS']) + 5000);
    }
  });

  it('lets nginx and the gateways open 65,536 files: a gateway needs one per socket, nginx two, and its workers ask for that many', () => {
    for (const name of ['nginx', ...gateways]) assert.deepEqual(model.services[name]!.ulimits?.nofile, { soft: 65536, hard: 65536 }, name);
    const conf = readFileSync(join(ROOT, 'nginx', 'conf', 'nginx.conf'), 'utf8');
    const directive = (name: string) => Number(new RegExp(`^\\s*${name}\\s+(\\d+);`, 'm').exec(conf)?.[1]);
    const rlimit = directive('worker_rlimit_nofile');
    const connections = directive('worker_connections');
    assert.ok(rlimit <= model.services['nginx']!.ulimits!.nofile!.hard, `worker_rlimit_nofile ${rlimit} within the container's limit`);
    assert.ok(connections <= rlimit, `worker_connections ${connections} within worker_rlimit_nofile ${rlimit}`);
    // Two connections per WebSocket: one worker holds 16,384 sockets.
    assert.ok(connections / 2 >= 16_384, `worker_connections ${connections} holds ${connections / 2} sockets`);
  });

  it('uses named networks only; gateways, Redis and the Sentinels sit on the internal one', () => {
    assert.deepEqual(model.networks['backend'], { name: 'payments-realtime-backend', internal: true });
    assert.equal(model.networks['edge']?.name, 'payments-realtime-edge');
    assert.deepEqual(Object.keys(model.services['nginx']!.networks ?? {}).sort(), ['backend', 'edge']);
    for (const name of [...gateways, ...REDIS_NODES, ...SENTINELS]) assert.deepEqual(Object.keys(model.services[name]!.networks ?? {}), ['backend'], name);
  });

  it('holds no secret: JWT_SECRET comes from the environment, and .env.example documents every variable', () => {
    for (const name of gateways) {
      assert.equal(model.services[name]!.environment!['JWT_SECRET'], SENTINEL_SECRET);
      assert.equal(model.services[name]!.environment!['WS_ALLOWED_ORIGINS'], 'https://pay.example.test', 'the only origin is the public one');
    }
    assert.equal(model.services['nginx']!.environment!['PUBLIC_HOST'], 'pay.example.test');
    // In the file itself, a secret-looking variable is only ever an interpolation without a default
    // (or with an empty one, for an optional secret such as METRICS_TOKEN).
    for (const match of raw.matchAll(/^\s*([A-Z0-9_]*(?:SECRET|PASSWORD|TOKEN|API_KEY|PRIVATE_KEY)[A-Z0-9_]*):\s*(.*)$/gm)) {
      assert.match(match[2]!, /^\$\{[A-Z0-9_]+(:\?[^}]*|:-)?\}$/, `${match[1]} must come from the environment`);
    }
    assert.doesNotMatch(raw, /eyJ[\w-]+\.|[0-9a-f]{32,}/i, 'no token or hex secret in the file');
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    assert.match(example, /^JWT_SECRET=$/m, '.env.example leaves the secret empty');
    // `$${…}` is the container shell's, not an interpolation.
    const interpolated = new Set([...raw.matchAll(/(?<!\$)\$\{([A-Z0-9_]+)/g)].map((match) => match[1]!));
    for (const name of interpolated) assert.match(example, new RegExp(`^${name}=`, 'm'), `.env.example documents ${name}`);
  });

  it('runs the gateways in Sentinel mode, waiting for one replica, with a configuration the gateway accepts', () => {
    for (const name of gateways) {
      const { environment, depends_on, sysctls } = model.services[name]!;
      assert.equal(environment!['REDIS_SENTINELS'], SENTINELS.map((sentinel) => `${sentinel}:26379`).join(','));
      assert.equal(environment!['REDIS_SENTINEL_MASTER'], 'mymaster');
      assert.equal(environment!['REDIS_PASSWORD'], REDIS_SECRET);
      assert.equal(environment!['REDIS_MIN_REPLICAS_ACK'], '1');
      const config = loadConfig(environment!);
      assert.deepEqual(
        [config.redisUrl, config.redisSentinels.length, config.redisMinReplicasAck, config.redisPassword],
        [undefined, 3, 1, REDIS_SECRET],
      );
      assert.deepEqual(depends_on, Object.fromEntries(SENTINELS.map((sentinel) => [sentinel, { condition: 'service_healthy' }])));
      // The kernel caps the listen backlog at somaxconn: the container's must hold LISTEN_BACKLOG.
      assert.ok(Number(sysctls?.['net.core.somaxconn']) >= config.listenBacklog, 'somaxconn ≥ LISTEN_BACKLOG');
    }
    const external = compose(['config'], { JWT_SECRET: SENTINEL_SECRET, REDIS_PASSWORD: REDIS_SECRET, REDIS_SENTINELS: '', REDIS_URL: 'redis://cache.internal:6379' });
    const environment = (parse(external.stdout) as Model).services['gateway-1']!.environment!;
    assert.equal(loadConfig(environment).redisUrl, 'redis://cache.internal:6379', 'an empty REDIS_SENTINELS selects REDIS_URL');
  });

  it('keeps secrets and local state out of the image build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['.env', 'nginx/certs/', 'node_modules/', '.git/']) assert.ok(ignored.includes(entry), entry);
  });
});

/** Runs a service's `sh -c` command here, with its environment (and `edit` applied to the script). */
function runCommand(service: Service, edit: (script: string) => string, extraEnv: Record<string, string> = {}) {
  const [shell, flag, script] = service.command!;
  assert.deepEqual([shell, flag], ['sh', '-c']);
  return spawn('sh', ['-c', edit(inContainer(script!))], { env: { PATH: process.env['PATH'] ?? '', ...service.environment, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function output(child: ReturnType<typeof spawn>): Promise<string> {
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await once(child, 'exit');
  return text;
}

describe('docker-compose.yml: Redis with no single point of failure (the services\' commands run here)', () => {
  const resolved = compose(['config'], { JWT_SECRET: SENTINEL_SECRET, REDIS_PASSWORD: REDIS_SECRET });
  const model = parse(resolved.stdout) as Model;
  const children: Array<ReturnType<typeof spawn>> = [];
  after(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('a primary and two replicas: persistent, password from the environment, no stale reads, announced by name', async () => {
    for (const [index, name] of REDIS_NODES.entries()) {
      const service = model.services[name]!;
      assert.equal(service.environment!['REDIS_PASSWORD'], REDIS_SECRET, name);
      const args = await output(runCommand(service, (script) => script.replace('exec redis-server', 'echo')));
      for (const expected of [`--requirepass ${REDIS_SECRET}`, `--masterauth ${REDIS_SECRET}`, '--appendonly yes', '--appendfsync always', '--replica-serve-stale-data no', `--replica-announce-ip ${name}`]) {
        assert.ok(args.includes(expected), `${name}: ${expected} in ${args}`);
      }
      assert.equal(args.includes('--replicaof redis-1 6379'), index > 0, `${name}: ${index > 0 ? 'replicates redis-1' : 'starts as the primary'}`);
    }
    assert.equal(new Set(REDIS_NODES.map((name) => JSON.stringify(model.services[name]!.volumes))).size, 3, 'a volume each');
  });

  it("redis-1's command starts a primary that refuses clients without the password", async () => {
    const dir = mkdtempSync(join(work, 'redis-1-'));
    const port = await freePort();
    const child = runCommand(model.services['redis-1']!, (script) => `${script} --port ${port} --bind 127.0.0.1 --dir ${dir}`);
    children.push(child);
    await waitForPort(port, () => child.exitCode === null, 'redis-1');
    const anonymous = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false } });
    anonymous.on('error', () => undefined);
    await assert.rejects(anonymous.connect().then(() => anonymous.ping()), /NOAUTH/);
    anonymous.destroy();
    const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, password: REDIS_SECRET });
    await client.connect();
    try {
      assert.deepEqual(await client.configGet('appendfsync'), { appendfsync: 'always' });
      assert.deepEqual(await client.configGet('replica-serve-stale-data'), { 'replica-serve-stale-data': 'no' });
    } finally {
      client.destroy();
      child.kill('SIGKILL');
    }
  });

  it('three Sentinels (quorum 2) write their configuration once, and redis-sentinel runs it', async () => {
    const dir = mkdtempSync(join(work, 'sentinel-'));
    const service = model.services['sentinel-1']!;
    assert.deepEqual(service.depends_on, { 'redis-1': { condition: 'service_healthy' } });
    const writeOnly = (script: string) => script.replaceAll('/data/', `${dir}/`).replace(/exec redis-sentinel .*$/, 'exit 0');
    assert.equal(await output(runCommand(service, writeOnly)), '');
    const conf = readFileSync(join(dir, 'sentinel.conf'), 'utf8');
    for (const line of ['port 26379', 'sentinel monitor mymaster redis-1 6379 2', `sentinel auth-pass mymaster ${REDIS_SECRET}`, 'sentinel announce-ip sentinel-1', 'sentinel resolve-hostnames yes']) {
      assert.ok(conf.split('\n').includes(line), `sentinel.conf has "${line}"`);
    }
    writeFileSync(join(dir, 'sentinel.conf'), `${conf}# learnt\n`);
    await output(runCommand(service, writeOnly));
    assert.match(readFileSync(join(dir, 'sentinel.conf'), 'utf8'), /# learnt\n$/, 'a restart keeps what the Sentinel rewrote');
    for (const name of SENTINELS) assert.equal(model.services[name]!.environment!['NODE'], name);
    // The file, with a local primary and port in place of the container names, is one redis-sentinel runs.
    const primaryPort = await freePort();
    const primary = spawn('/usr/bin/redis-server', ['--port', String(primaryPort), '--bind', '127.0.0.1', '--save', '', '--requirepass', REDIS_SECRET], { stdio: 'ignore' });
    children.push(primary);
    await waitForPort(primaryPort, () => primary.exitCode === null, 'redis-server');
    const sentinelPort = await freePort();
    writeFileSync(
      join(dir, 'sentinel.conf'),
      conf.replace('port 26379', `port ${sentinelPort}\nbind 127.0.0.1`).replace('redis-1 6379', `127.0.0.1 ${primaryPort}`).replace('announce-ip sentinel-1', 'announce-ip 127.0.0.1'),
    );
    const sentinel = spawn(process.env['REDIS_SENTINEL_BIN'] ?? '/usr/bin/redis-sentinel', [join(dir, 'sentinel.conf')], { stdio: 'ignore' });
    children.push(sentinel);
    await waitForPort(sentinelPort, () => sentinel.exitCode === null, 'redis-sentinel');
    const client = createClient({ socket: { host: '127.0.0.1', port: sentinelPort, reconnectStrategy: false } });
    await client.connect();
    try {
      assert.deepEqual(await client.sendCommand(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster']), ['127.0.0.1', String(primaryPort)]);
    } finally {
      client.destroy();
      sentinel.kill('SIGKILL');
      primary.kill('SIGKILL');
    }
  });
});

/** The stages of a Dockerfile: FROM line and the instructions after it. */
function stages(path: string): Array<{ from: string; lines: string[] }> {
  const text = readFileSync(join(ROOT, path), 'utf8').replace(/\\\n/g, ' ');
  const result: Array<{ from: string; lines: string[] }> = [];
  for (const line of text.split('\n').map((candidate) => candidate.trim())) {
    if (/^FROM\s/i.test(line)) result.push({ from: line, lines: [] });
    else if (line && !line.startsWith('#')) result.at(-1)?.lines.push(line);
  }
  return result;
}

describe('Dockerfiles', () => {
  it('gateway: multi-stage, the bundle on a small runtime, non-root, tini as PID 1, node in exec form', () => {
    const all = stages('gateway/Dockerfile');
    assert.ok(all.length >= 2, 'multi-stage');
    const runtime = all.at(-1)!;
    assert.match(runtime.from, /alpine|slim|distroless/);
    assert.ok(runtime.lines.some((line) => /^COPY --from=build .*main\.mjs/.test(line)), 'copies only the bundle');
    assert.ok(!runtime.lines.some((line) => /npm (ci|install)|node_modules/.test(line)), 'no node_modules in the runtime');
    const user = runtime.lines.filter((line) => line.startsWith('USER ')).at(-1);
    assert.ok(user && !/USER (root|0)\b/.test(user), 'runs as a non-root user');
    assert.ok(runtime.lines.includes('ENTRYPOINT ["/sbin/tini", "--"]'));
    assert.match(runtime.lines.find((line) => line.startsWith('CMD '))!, /^CMD \["node",/);
    assert.ok(all[0]!.lines.some((line) => line.includes('npm run build:gateway')), 'builds with the package script');
  });

  it('nginx: multi-stage with the built app, non-root, and a default for every template placeholder', () => {
    const all = stages('nginx/Dockerfile');
    assert.ok(all.length >= 2, 'multi-stage');
    const runtime = all.at(-1)!;
    assert.match(runtime.from, /nginx-unprivileged/);
    assert.equal(runtime.lines.filter((line) => line.startsWith('USER ')).at(-1), 'USER 101');
    assert.ok(runtime.lines.includes('COPY nginx/templates/ /etc/nginx/templates/'));
    // The entrypoint's envsubst only replaces variables that are set: an unset one would stay as
    // a literal placeholder and nginx would refuse the file.
    const env = runtime.lines.find((line) => line.startsWith('ENV '))!;
    for (const name of PLACEHOLDERS) assert.match(env, new RegExp(`\\b${name}=\\S+`), `ENV ${name}`);
    assert.match(env, /GATEWAY_1=gateway-1:3000/);
    assert.match(env, /GATEWAY_2=gateway-2:3000/);
  });

  it("nginx: the image's main configuration passes `nginx -t` (its paths moved to a scratch folder)", () => {
    const dir = mkdtempSync(join(work, 'nginx-main-'));
    // /dev/stderr is a socket under spawnSync, which nginx cannot open by path.
    const conf = readFileSync(join(ROOT, 'nginx', 'conf', 'nginx.conf'), 'utf8')
      .replaceAll('/tmp/', `${dir}/`)
      .replace('error_log /dev/stderr', `error_log ${dir}/error.log`)
      .replace('include /etc/nginx/conf.d/*.conf;', `include ${dir}/conf.d/*.conf;`);
    writeFileSync(join(dir, 'nginx.conf'), conf);
    const test = spawnSync(NGINX, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(test.status, 0, test.stderr);
    assert.match(test.stderr, /test is successful/);
  });
});

describe('the gateway bundle (npm run build:gateway, what the image runs)', () => {
  it('builds into one file that starts, serves /api/health and drains on SIGTERM', async () => {
    const build = spawnSync('npm', ['run', '-s', 'build:gateway', '--', `--outfile=${join(work, 'main.mjs')}`], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    const secret = 'bundle-test-secret-0123456789abcdef0123';
    // Run from a folder without node_modules: the bundle must need nothing else.
    const child = spawn(process.execPath, ['--enable-source-maps', join(work, 'main.mjs')], {
      cwd: work,
      env: { PATH: process.env['PATH'] ?? '', JWT_SECRET: secret, HOST: '127.0.0.1', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    try {
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line:\n${output}`)), 10_000);
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const line = output.split('\n').find((candidate) => candidate.includes('listening'));
          if (line) {
            clearTimeout(timer);
            resolve((JSON.parse(line) as { url: string }).url);
          }
        });
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.once('exit', () => reject(new Error(`the bundle exited:\n${output}`)));
      });
      assert.equal((await fetch(`${url}/api/health`)).status, 200);
      const client = await connect(`${url.replace('http', 'ws')}/ws`, signAccessToken(secret, ALICE, { expiresInSeconds: 60 }));
      child.kill('SIGTERM');
      assert.equal((await client.closed).code, CloseCode.GoingAway);
      assert.deepEqual(await exited, [0, null]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
