/**
 * A/B of the broadcast hot path in one process, on the same sockets, alternating:
 *   A: the previous broadcaster (one `ws.send(frame)` per recipient: `ws` frames each send),
 *   B: the current `Broadcaster` (frame once, raw writes, cork/uncork per turn for bursts),
 *   C: the loop of the bare-ws baseline (bench/servers/bare-ws.mjs) over the same sockets.
 * Server: an in-process `ws` server whose sockets sit in a RoomRegistry like the gateway's. With
 * `gateway-objects`, its sockets are the gateway's `GatewaySocket`s, each with a real `Connection` in
 * three rooms (user, role, broadcast), as the hub makes them.
 * Clients: the benchmark's load-generator workers (separate processes). CPU is this process's
 * own `process.cpuUsage()` over each phase ÷ deliveries.
 *
 *   node --import tsx bench/hotpath-ab.mts [sockets=1000] [rounds=5] [gateway-objects]
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { Room, RoomEvent } from '@payments-system/protocol';
import { Broadcaster } from '../gateway/src/realtime/broadcaster.ts';
import { Outbound } from '../gateway/src/realtime/outbound.ts';
import type { Claims } from '../gateway/src/auth/tokens.ts';
import { Connection, GatewaySocket, type ConnectionOwner } from '../gateway/src/realtime/connection.ts';
import { rawSocket, textFrame } from '../gateway/src/realtime/frame.ts';
import { RoomRegistry } from '../gateway/src/realtime/room-registry.ts';
import { SourceAddresses, median, sleep, startLoadGenerators } from './lib/harness.mjs';

const sockets = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 5);
const gatewayObjects = process.argv[4] === 'gateway-objects';
const ROOM = 'broadcast' as Room;
const MAX_BUFFERED = 1024 * 1024;

/** The broadcaster as it was before commit 948c7df (`ws.send` per recipient), over rooms that now hold sockets. */
class PreviousBroadcaster {
  constructor(private readonly rooms: RoomRegistry) {}
  deliver(room: Room, event: RoomEvent): number {
    const members = this.rooms.members(room);
    if (!members) return 0;
    const frame = Buffer.from(JSON.stringify(event));
    let delivered = 0;
    // The registry holds the gateway's ClientSockets; in this tool they are all `ws` sockets.
    for (const socket of members as ReadonlySet<GatewaySocket>) {
      if (socket.readyState !== WebSocket.OPEN) continue;
      if (socket.bufferedAmount + frame.length > MAX_BUFFERED) continue;
      socket.send(frame, { binary: false });
      delivered++;
    }
    return delivered;
  }
}

/** The bare-ws baseline's broadcast: frame once (the same bytes as its `Sender.frame` + concat), `_socket.write` to every open member. */
function bareBroadcast(members: ReadonlySet<WebSocket>, event: RoomEvent): number {
  const frame = textFrame(JSON.stringify(event));
  let delivered = 0;
  for (const socket of members) {
    if (socket.readyState !== WebSocket.OPEN) continue;
    rawSocket(socket)!.write(frame);
    delivered++;
  }
  return delivered;
}

const rooms = new RoomRegistry();
const bareMembers = new Set<WebSocket>();
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: false,
  clientTracking: false,
  ...(gatewayObjects && { WebSocket: GatewaySocket }),
});
await once(wss, 'listening');
const owner: ConnectionOwner = { logger: undefined as never, handleFrame() {}, release() {} };
const claims: Claims = { userId: 'bench_user', email: 'user@bench.test', role: 'VENDOR', exp: 2_000_000_000 };
let accepted = 0;
wss.on('connection', (ws) => {
  if (gatewayObjects) {
    const socket = ws as GatewaySocket;
    socket.connection = new Connection(owner, String(++accepted), socket, claims);
    for (const room of [`user:u${accepted}`, 'role:VENDOR', ROOM] as Room[]) rooms.join(socket.connection, room);
  } else rooms.join({ socket: ws, rooms: new Set() } as unknown as Connection, ROOM);
  bareMembers.add(ws);
});
const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;

const pool = await startLoadGenerators(2);
const addresses = new SourceAddresses();
addresses.next = 120;
const source = addresses.take(4);
await Promise.all(
  pool.shares(0, sockets).map(({ worker, from, count }) =>
    worker.call('connect', { kind: 'bare', url, from, count, sourceAddresses: source, concurrency: 32, vendorBelow: 0 }),
  ),
);
await sleep(500);

const previous = new PreviousBroadcaster(rooms);
const current = new Broadcaster(rooms, new Outbound(MAX_BUFFERED, () => {}));
let sequence = 0;
const event = (): RoomEvent =>
  ({
    type: 'system:broadcast',
    payload: { message: `@T${process.hrtime.bigint()}@${'x'.repeat(120)}`, level: 'info' },
    timestamp: new Date().toISOString(),
    id: String(++sequence),
  }) as RoomEvent;
const turn = () => new Promise((resolve) => setImmediate(resolve));

async function phase(deliver: (e: RoomEvent) => unknown, events: number, perTurn: number): Promise<number> {
  await pool.all('reset', { sampleEvery: 1_000_000 });
  const before = process.cpuUsage();
  for (let sent = 0; sent < events; ) {
    for (let i = 0; i < perTurn; i++, sent++) deliver(event());
    await turn();
  }
  const expected = events * sockets;
  while ((await pool.received()) < expected) await sleep(5);
  const after = process.cpuUsage(before);
  return (after.user + after.system) / expected;
}

const results: Record<string, number[]> = {};
const record = (key: string, value: number) => (results[key] ??= []).push(value);
const variants = {
  'A previous': (e: RoomEvent) => previous.deliver(ROOM, e),
  'B current': (e: RoomEvent) => current.deliver(ROOM, e),
  'C bare ws loop': (e: RoomEvent) => bareBroadcast(bareMembers, e),
};
const events = Math.max(50, Math.round(200_000 / sockets));
for (let round = 0; round < rounds; round++) {
  const names = Object.keys(variants) as (keyof typeof variants)[];
  const order = round % 2 ? [...names].reverse() : names;
  for (const name of order) {
    record(`${name}, isolated`, await phase(variants[name], events, 1));
    record(`${name}, bursts of 10`, await phase(variants[name], events, 10));
  }
}
console.log(`server CPU per delivery (µs), ${sockets} sockets${gatewayObjects ? ' (gateway objects)' : ''}, ${rounds} alternating rounds, median (min–max):`);
for (const [key, values] of Object.entries(results).sort()) {
  console.log(`  ${key.padEnd(30)} ${median(values).toFixed(2)} (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`);
}
for (const mode of ['isolated', 'bursts of 10']) {
  const ratio = (b: string, a: string) => (median(results[`${b}, ${mode}`]!) / median(results[`${a}, ${mode}`]!)).toFixed(2);
  console.log(`  B ÷ A, ${mode}: ${ratio('B current', 'A previous')}; B ÷ C: ${ratio('B current', 'C bare ws loop')}`);
}
await pool.all('close');
await pool.stop();
wss.close();
