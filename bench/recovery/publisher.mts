/**
 * The background traffic of `npm run bench:recovery` (forked, driven over IPC): payment updates
 * published through the gateway's own Redis bus (the same append script as POST /api/events,
 * without the HTTP request, whose cost belongs to whichever gateway takes it) at a steady rate, to
 * users' rooms picked at random among `users`, plus notices to `role:CUSTOMER`. Each accepted
 * event's id and room are reported back at the end.
 */
import type { Room } from '@payments-system/protocol';
import { RedisBus } from '../../gateway/src/bus/redis-bus.ts';
import { createLogger } from '../../gateway/src/logger.ts';

interface Start {
  readonly cmd: 'start';
  readonly seq: number;
  readonly redisUrl: string;
  readonly rate: number;
  readonly users: number;
  readonly sharedRate: number;
  readonly roomCount: number;
}

let bus: RedisBus | undefined;
let running = false;
let loop: Promise<void> | undefined;
const accepted: Array<[string, Room]> = [];
let failed = 0;
let inFlight = 0;
const PADDING = 'x'.repeat(80);

function pickRoom(n: number, start: Start, sharedEvery: number): Room {
  if (sharedEvery > 0 && n % sharedEvery === 0) return 'role:CUSTOMER';
  return `user:u${Math.floor(Math.random() * start.users)}`;
}

async function run(start: Start): Promise<void> {
  const total = start.rate + start.sharedRate;
  const sharedEvery = start.sharedRate > 0 ? Math.round(total / start.sharedRate) : 0;
  const began = performance.now();
  let sent = 0;
  while (running) {
    // Everything due by now, without waiting for earlier ones: a steady rate whatever the latency.
    const due = Math.floor(((performance.now() - began) / 1000) * total);
    for (; sent < due; sent++) {
      const room = pickRoom(sent, start, sharedEvery);
      inFlight++;
      bus!
        .publish({
          room,
          type: 'payment:updated',
          payload: { paymentId: `pay_${sent}`, status: 'processing', amount: `${sent % 1000}.00`, currency: 'EUR', description: PADDING },
          correlationId: `seq-${sent}`,
        })
        .then(
          (id) => accepted.push([id, room]),
          () => failed++,
        )
        .finally(() => inFlight--);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 5));
}

process.on('message', async (message: Start | { cmd: 'stop' | 'exit'; seq: number }) => {
  if (message.cmd === 'start') {
    bus = new RedisBus({
      redis: { target: { kind: 'url', url: message.redisUrl }, minReplicasAck: 0, waitTimeoutMs: 1000 },
      retention: { count: 10_000, roomCount: message.roomCount, ageMs: 300_000 },
      logger: createLogger('warn'),
    });
    await bus.start(() => undefined);
    running = true;
    loop = run(message);
    process.send!({ seq: message.seq, ok: true });
  } else if (message.cmd === 'stop') {
    running = false;
    await loop;
    await bus?.close();
    process.send!({ seq: message.seq, accepted, failed });
  } else if (message.cmd === 'exit') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
