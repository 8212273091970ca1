import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { createLogger, REDACTED_PATHS } from './logger.ts';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJ1c2VySWQiOiJ1MSJ9.c2lnbmF0dXJl';

/** A logger writing into an array of parsed lines. */
function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe('createLogger', () => {
  it('censors every credential path and keeps the rest of the line', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        token: TOKEN,
        accessToken: TOKEN,
        refreshToken: TOKEN,
        authorization: `Bearer ${TOKEN}`,
        cookie: `session=${TOKEN}`,
        headers: { authorization: `Bearer ${TOKEN}`, cookie: `s=${TOKEN}`, 'sec-websocket-protocol': `bearer, ${TOKEN}`, host: 'gw' },
        req: { headers: { authorization: `Bearer ${TOKEN}`, cookie: `s=${TOKEN}`, 'sec-websocket-protocol': `bearer, ${TOKEN}` } },
        userId: 'u1',
      },
      'credentials everywhere',
    );
    const [line] = lines;
    assert.ok(line);
    assert.ok(!JSON.stringify(line).includes(TOKEN), `a token reached the log: ${JSON.stringify(line)}`);
    assert.equal(line['token'], '[redacted]');
    assert.deepEqual(line['headers'], { authorization: '[redacted]', cookie: '[redacted]', 'sec-websocket-protocol': '[redacted]', host: 'gw' });
    assert.equal(line['userId'], 'u1');
    assert.equal(line['msg'], 'credentials everywhere');
    assert.equal(line['service'], 'gateway');
  });

  it('censors credentials of a child logger, and its bindings stay', () => {
    const { logger, lines } = capture();
    logger.child({ requestId: 'r1' }).warn({ token: TOKEN }, 'refused');
    assert.deepEqual([lines[0]?.['requestId'], lines[0]?.['token']], ['r1', '[redacted]']);
  });

  it('does not touch lines without credentials (nothing to clone on the hot path)', () => {
    const { logger, lines } = capture();
    const fields = { eventId: '1-0', room: 'broadcast', delivered: 3 };
    logger.info(fields, 'event delivered');
    assert.deepEqual({ eventId: lines[0]?.['eventId'], room: lines[0]?.['room'], delivered: lines[0]?.['delivered'] }, fields);
    assert.ok(REDACTED_PATHS.every((path) => !path.includes('*')), 'wildcard paths make every line walk the whole object');
  });
});

describe('createLogger to standard output', () => {
  it('has written every line by the time the call returns: a process killed right after loses none', async () => {
    // SIGKILL, like an OOM kill, runs no exit handler: only lines already handed to the kernel survive.
    const lines = 200;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', `
        import { createLogger } from ${JSON.stringify(new URL('./logger.ts', import.meta.url).href)};
        const logger = createLogger('info');
        for (let i = 0; i < ${lines}; i++) logger.info({ i }, 'line');
        process.kill(process.pid, 'SIGKILL');
      `],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const [, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, 'SIGKILL');
    const written = output.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { i: number }).i);
    assert.deepEqual(written, Array.from({ length: lines }, (_, i) => i));
  });
});
