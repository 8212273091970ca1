/** Resume after a reconnect on one gateway: the replay, the handshake hold, and bad positions. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareEventIds, type ServerMessage } from '@payments-system/protocol';
import { InMemoryBus } from '../src/bus/in-memory-bus.ts';
import { connect, refusedHandshake, type TestClient } from './support/client.ts';
import { ALICE, startTestGateway, type TestGateway } from './support/gateway.ts';

const notice = (message: string) => ({ room: 'user:alice' as const, type: 'system:broadcast' as const, payload: { message, level: 'info' as const } });

/** Reads messages until `done` says so; returns them in arrival order. */
async function collect(client: TestClient, done: (messages: ServerMessage[]) => boolean): Promise<ServerMessage[]> {
  const messages: ServerMessage[] = [];
  while (!done(messages)) messages.push(await client.next(undefined, 5000));
  return messages;
}

async function lastSeen(gateway: TestGateway): Promise<string> {
  const client = await connect(gateway.wsUrl, gateway.token(ALICE));
  const id = await gateway.publish(notice('before'));
  await client.next('system:broadcast');
  await client.close();
  return id;
}

describe('resume', () => {
  it('with ?since= at the handshake: missed events, then resumed, then live ones; none early, none twice', async () => {
    const gateway = await startTestGateway();
    const since = await lastSeen(gateway);
    const missed = [await gateway.publish(notice('m1')), await gateway.publish(notice('m2'))];

    const client = await connect(`${gateway.wsUrl}?since=${since}`, gateway.token(ALICE));
    // Live events race the resume: published while the client subscribes and resumes.
    const live: string[] = [];
    const publishing = (async () => {
      for (let i = 0; i < 20; i++) {
        live.push(await gateway.publish(notice(`live${i}`)));
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    client.send({ type: 'subscribe', payload: { room: 'broadcast' }, correlationId: 'sub' });
    client.send({ type: 'resume', payload: { since }, correlationId: 'res' });
    await publishing;
    const messages = await collect(client, (seen) => seen.filter((m) => m.type === 'system:broadcast').length >= missed.length + live.length);

    const resumedAt = messages.findIndex((m) => m.type === 'resumed');
    assert.ok(resumedAt >= 0, 'resumed arrives');
    const resumed = messages[resumedAt] as ServerMessage<'resumed'>;
    assert.equal(resumed.correlationId, 'res');
    const events = messages.filter((m) => m.type === 'system:broadcast').map((m) => m.id as string);
    assert.deepEqual(events, [...missed, ...live], 'every event once, in order');
    const beforeResumed = messages.slice(0, resumedAt).filter((m) => m.type === 'system:broadcast').map((m) => m.id as string);
    assert.deepEqual(beforeResumed.slice(0, missed.length), missed);
    assert.equal(resumed.payload.replayed, beforeResumed.length, 'only replayed events come before resumed');
    for (let i = 1; i < events.length; i++) assert.ok(compareEventIds(events[i - 1] as string, events[i] as string) < 0);
  });

  it('without ?since=, a resume message still replays what was missed', async () => {
    const gateway = await startTestGateway();
    const since = await lastSeen(gateway);
    const missed = [await gateway.publish(notice('m1'))];
    const client = await connect(gateway.wsUrl, gateway.token(ALICE));
    client.send({ type: 'resume', payload: { since } });
    const messages = await collect(client, (seen) => seen.some((m) => m.type === 'resumed'));
    assert.deepEqual(messages.map((m) => m.type), ['system:broadcast', 'resumed']);
    assert.equal(messages[0]?.id, missed[0]);
  });

  it('answers recovery:failed for a position the bus does not hold, then goes live', async () => {
    const gateway = await startTestGateway();
    const client = await connect(`${gateway.wsUrl}?since=1000-0`, gateway.token(ALICE));
    client.send({ type: 'resume', payload: { since: '1000-0' }, correlationId: 'r' });
    const failed = await client.next('recovery:failed');
    assert.deepEqual(failed.payload, { since: '1000-0', reason: 'too-old' });
    const id = await gateway.publish(notice('live'));
    assert.equal((await client.next('system:broadcast')).id, id);
  });

  it('answers too-many when more events were missed than RECOVERY_MAX_EVENTS', async () => {
    const gateway = await startTestGateway({ recoveryMaxEvents: 3 });
    const since = await lastSeen(gateway);
    for (let i = 0; i < 4; i++) await gateway.publish(notice(`m${i}`));
    const client = await connect(`${gateway.wsUrl}?since=${since}`, gateway.token(ALICE));
    client.send({ type: 'resume', payload: { since } });
    assert.equal((await client.next('recovery:failed')).payload.reason, 'too-many');
  });

  it('starts the replay by itself when a client announced ?since= but sends no resume', async () => {
    const gateway = await startTestGateway();
    const since = await lastSeen(gateway);
    const missed = await gateway.publish(notice('m1'));
    const client = await connect(`${gateway.wsUrl}?since=${since}`, gateway.token(ALICE));
    const event = await client.next('system:broadcast', 8000);
    assert.equal(event.id, missed);
    assert.equal((await client.next('resumed')).payload.replayed, 1);
  });

  it('gives a client that saw no event its position (resume without since), from which it resumes after a reconnect', async () => {
    const gateway = await startTestGateway();
    await gateway.publish({ ...notice('elsewhere'), room: 'user:bob' }); // the bus has a position; alice's room is quiet
    const first = await connect(gateway.wsUrl, gateway.token(ALICE));
    const position = await first.request({ type: 'resume', payload: {} });
    assert.equal(position.type, 'resumed');
    const { since, replayed } = (position as ServerMessage<'resumed'>).payload;
    assert.equal(replayed, 0);
    await first.close();
    const missed = [await gateway.publish(notice('m1')), await gateway.publish(notice('m2'))];

    const again = await connect(`${gateway.wsUrl}?since=${since}`, gateway.token(ALICE));
    again.send({ type: 'resume', payload: { since } });
    const messages = await collect(again, (seen) => seen.some((m) => m.type === 'resumed'));
    assert.deepEqual(messages.map((m) => m.id ?? m.type), [...missed, 'resumed']);
  });

  it('a position splits live delivery: events before its reply are at or below it, events after it above', async () => {
    const gateway = await startTestGateway();
    const client = await connect(gateway.wsUrl, gateway.token(ALICE));
    const published: string[] = [];
    const publishing = (async () => {
      for (let i = 0; i < 30; i++) {
        published.push(await gateway.publish(notice(`live${i}`)));
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await client.next('system:broadcast'); // traffic is flowing
    client.send({ type: 'resume', payload: {}, correlationId: 'where' });
    const messages = await collect(client, (seen) => seen.some((m) => m.type === 'resumed'));
    await publishing;
    const since = (messages.at(-1) as ServerMessage<'resumed'>).payload.since;
    for (const before of messages.filter((m) => m.id !== undefined)) assert.ok(compareEventIds(before.id as string, since) <= 0, `${before.id} before ${since}`);
    const after = await collect(client, (seen) => seen.at(-1)?.id === published.at(-1));
    for (const event of after) assert.ok(compareEventIds(event.id as string, since) > 0, `${event.id} after ${since}`);
    assert.ok(after.length > 0, 'events after the position');
  });

  it('the position of a quiet client stays valid however old: resuming from it replays nothing, not too-old', async () => {
    let clock = Date.now();
    const gateway = await startTestGateway({ bus: new InMemoryBus({ count: 100, roomCount: 100, ageMs: 60_000 }, () => clock) });
    await gateway.publish({ ...notice('long ago'), room: 'user:bob' });
    const first = await connect(gateway.wsUrl, gateway.token(ALICE));
    const { since } = ((await first.request({ type: 'resume', payload: {} })) as ServerMessage<'resumed'>).payload;
    await first.close();
    clock += 120_000; // the position is now older than the retention age
    const again = await connect(`${gateway.wsUrl}?since=${since}`, gateway.token(ALICE));
    again.send({ type: 'resume', payload: { since }, correlationId: 'r' });
    assert.deepEqual((await again.next('resumed')).payload, { since, replayed: 0 });
  });

  it('answers a position request while a resume is pending with BAD_REQUEST', async () => {
    const gateway = await startTestGateway();
    const since = await lastSeen(gateway);
    const client = await connect(`${gateway.wsUrl}?since=${since}`, gateway.token(ALICE));
    const refused = await client.request({ type: 'resume', payload: {} });
    assert.equal(refused.type, 'error');
    assert.equal((refused as ServerMessage<'error'>).payload.code, 'BAD_REQUEST');
    client.send({ type: 'resume', payload: { since } });
    assert.deepEqual((await client.next('resumed')).payload, { since, replayed: 0 });
  });

  it('refuses a malformed ?since= at the handshake with 400', async () => {
    const gateway = await startTestGateway();
    const refused = await refusedHandshake(`${gateway.wsUrl}?since=yesterday`, gateway.token(ALICE));
    assert.equal(refused.status, 400);
    assert.match(refused.body, /since must be an event id/);
  });
});
