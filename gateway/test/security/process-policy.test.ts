/**
 * The process policy, on the real entry points: an uncaught exception is logged as fatal, every
 * socket is closed with 1001 and the process exits 1 (for the orchestrator to restart it); an
 * unhandled rejection is logged and counted, and the gateway serves on.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { CloseCode } from '@payments-system/protocol';
import { signAccessToken } from '../../src/auth/tokens.ts';
import { connect } from '../support/client.ts';
import { ALICE } from '../support/gateway.ts';
import { listeningUrl, spawnGateway } from '../support/process.ts';

const secret = randomBytes(32).toString('hex');
const faults = fileURLToPath(new URL('../support/fault-injection.ts', import.meta.url));

for (const entry of ['gateway/src/main.ts', 'gateway/src/demo.ts']) {
  describe(`process policy (${entry})`, () => {
    it('on an uncaught exception: logs it as fatal, closes every socket with 1001, exits 1', async () => {
      const gateway = spawnGateway({ JWT_SECRET: secret }, entry, { preload: [faults], ipc: true });
      const url = listeningUrl(await gateway.waitForLine(/listening/));
      const client = await connect(`${url.replace('http', 'ws')}/ws`, signAccessToken(secret, ALICE));
      gateway.child.send('throw');
      const closed = await client.closed;
      assert.equal(closed.code, CloseCode.GoingAway);
      assert.deepEqual(await gateway.exited, { code: 1, signal: null });
      const fatal = JSON.parse(await gateway.waitForLine(/uncaught exception/)) as { level: number; err: { message: string }; origin: string };
      assert.equal(fatal.level, 60, 'fatal');
      assert.equal(fatal.err.message, 'injected fault');
      assert.equal(fatal.origin, 'uncaughtException');
    });

    it('on an unhandled rejection: logs it with the reason, counts it, and serves on', async () => {
      const gateway = spawnGateway({ JWT_SECRET: secret }, entry, { preload: [faults], ipc: true });
      const url = listeningUrl(await gateway.waitForLine(/listening/));
      const client = await connect(`${url.replace('http', 'ws')}/ws`, signAccessToken(secret, ALICE));
      gateway.child.send('reject');
      const logged = JSON.parse(await gateway.waitForLine(/unhandled promise rejection/)) as { level: number; err: { message: string } };
      assert.equal(logged.level, 50, 'error');
      assert.equal(logged.err.message, 'injected rejection');
      assert.equal((await fetch(`${url}/api/health`)).status, 200);
      assert.equal((await client.request({ type: 'ping' })).type, 'pong');
      assert.match(await (await fetch(`${url}/metrics`)).text(), /gateway_internal_errors_total\{source="unhandled_rejection"\} 1/);
      gateway.child.kill('SIGTERM');
      assert.deepEqual(await gateway.exited, { code: 0, signal: null });
    });
  });
}
