/**
 * The real demo gateway (`node --import tsx gateway/src/demo.ts`, what `npm run demo` runs) as a child process,
 * serving the built app. Every child is killed when the test file ends, even after a failure.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after } from 'node:test';
import { ROOT, appDir } from './paths.ts';

const children = new Set<ChildProcess>();
const killAll = () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};
after(killAll);
process.once('exit', killAll);

export interface DemoGateway {
  readonly url: string;
  readonly port: number;
  readonly output: string[];
  /** Kills the process at once (SIGKILL: a crash, no goodbye to the clients) and waits for it to be gone. */
  kill(): Promise<void>;
  /**
   * Starts the gateway again on the same port, with the same settings and `changes` on top (another `JWT_SECRET`
   * plays what `npm start` does on each start: a new secret, every session gone).
   */
  restart(changes?: Record<string, string>): Promise<void>;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** A JWT secret shared by restarts, so tokens issued before a restart stay valid after it. */
const TEST_SECRET = 'e2e-only-secret-0123456789abcdef0123456789abcdef';

export async function startDemoGateway(env: Record<string, string> = {}): Promise<DemoGateway> {
  let port = Number(env['PORT'] ?? 0);
  let child!: ChildProcess;
  const output: string[] = [];

  const spawnOnce = async (changes: Record<string, string> = {}) => {
    child = spawn(process.execPath, ['--import', 'tsx', 'gateway/src/demo.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '/tmp',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        JWT_SECRET: TEST_SECRET,
        STATIC_DIR: appDir,
        ...env,
        ...changes,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    const line = await waitForLine(child, output, /"url"/, 20_000);
    const url = (JSON.parse(line) as { url: string }).url;
    port = Number(new URL(url).port);
  };

  await spawnOnce();
  const stopChild = async (signal: NodeJS.Signals) => {
    const current = child;
    if (current.exitCode !== null || current.signalCode !== null) return;
    const exited = once(current, 'exit');
    current.kill(signal);
    const timer = setTimeout(() => current.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    children.delete(current);
  };

  return {
    get url() {
      return `http://localhost:${port}`;
    },
    get port() {
      return port;
    },
    output,
    kill: () => stopChild('SIGKILL'),
    stop: () => stopChild('SIGTERM'),
    restart: (changes) => spawnOnce(changes),
  };
}

function waitForLine(child: ChildProcess, output: string[], pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let partial = '';
    const onData = (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      output.push(...lines);
      const found = lines.find((l) => pattern.test(l) && l.trim().startsWith('{'));
      if (found !== undefined) done(() => resolve(found));
    };
    const onExit = () => done(() => reject(new Error(`gateway exited before listening:\n${output.join('\n')}`)));
    const timer = setTimeout(
      () => done(() => reject(new Error(`gateway not listening after ${timeoutMs} ms:\n${output.join('\n')}`))),
      timeoutMs,
    );
    const done = (settle: () => void) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      settle();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}
