/** Runs the real gateway entry point (`npm run gateway`'s command) as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

export interface GatewayProcess {
  readonly child: ChildProcess;
  /** Every line printed so far (stdout and stderr). */
  readonly output: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first line matching `pattern`; rejects if the process exits first. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export interface SpawnOptions {
  /** Modules node preloads (`--import`) after tsx, such as a fault injector. */
  readonly preload?: readonly string[];
  /** Opens an IPC channel (`child.send`) to the process. */
  readonly ipc?: boolean;
}

export function spawnGateway(env: Record<string, string>, entry = 'gateway/src/main.ts', options: SpawnOptions = {}): GatewayProcess {
  const preload = (options.preload ?? []).flatMap((module) => ['--import', module]);
  const child = spawn(process.execPath, ['--import', 'tsx', ...preload, entry], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const output: string[] = [];
  const listeners = new Set<() => void>();
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      output.push(...lines);
      for (const listener of listeners) listener();
    });
  }
  const exited = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return {
    child,
    output,
    exited,
    waitForLine(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = output.find((candidate) => pattern.test(candidate));
          if (line !== undefined) {
            cleanup();
            resolve(line);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output:\n${output.join('\n')}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void exited.then(() => {
          check();
          if (listeners.has(check)) {
            cleanup();
            reject(new Error(`gateway exited before printing ${pattern}; output:\n${output.join('\n')}`));
          }
        });
        check();
      });
    },
  };
}

/** Reads the URL from the gateway's `listening` log line. */
export function listeningUrl(line: string): string {
  const { url } = JSON.parse(line) as { url: string };
  return url;
}

/** The preload that lets a test move a gateway process's clock (see `advanceClock`). */
export const CLOCK_OFFSET_PRELOAD = fileURLToPath(new URL('./clock-offset.ts', import.meta.url));

/** Moves the clock of a gateway spawned with CLOCK_OFFSET_PRELOAD and `ipc`; resolves once it has. */
export async function advanceClock(gateway: GatewayProcess, seconds: number): Promise<void> {
  const acknowledged = new Promise<void>((resolve) => {
    const onMessage = (message: unknown) => {
      if (typeof message === 'object' && message !== null && 'clockAdvancedSeconds' in message) {
        gateway.child.off('message', onMessage);
        resolve();
      }
    };
    gateway.child.on('message', onMessage);
  });
  gateway.child.send({ advanceClockSeconds: seconds });
  await acknowledged;
}
