import type { Room } from '@payments-system/protocol';
import fc from 'fast-check';
import { TS } from '../../spec-helpers/server-messages';
import { RoomMultiplexer, type RoomAction, type RoomReply } from './room-multiplexer';

const HANDSHAKE = new Set<Room>(['user:alice', 'role:CUSTOMER', 'broadcast']);

function setup() {
  let n = 0;
  const mux = new RoomMultiplexer((prefix) => `${prefix}-${++n}`, () => Date.parse(TS));
  mux.opened(HANDSHAKE);
  return mux;
}

const sends = (actions: RoomAction[]) => actions.flatMap((a) => (a.type === 'send' ? [`${a.message.type} ${a.message.payload.room}`] : []));
const replies = (actions: RoomAction[]) =>
  actions.flatMap((a) => (a.type === 'reply' ? [`${a.to} ${a.message.type} ${a.message.correlationId ?? '-'}`] : []));
const sent = (actions: RoomAction[]) => actions.find((a) => a.type === 'send')!.message as { type: 'subscribe' | 'unsubscribe'; correlationId: string; payload: { room: Room } };

function ack(action: { type: 'subscribe' | 'unsubscribe'; correlationId: string; payload: { room: Room } }, refuse = false): RoomReply {
  const { room } = action.payload;
  if (refuse) return { type: 'error', payload: { code: 'FORBIDDEN', message: 'no', room }, timestamp: TS, correlationId: action.correlationId };
  return { type: action.type === 'subscribe' ? 'subscribed' : 'unsubscribed', payload: { room }, timestamp: TS, correlationId: action.correlationId };
}

describe('RoomMultiplexer (one socket, many members)', () => {
  it('asks the gateway once for members that want the same room, and answers each with its own id', () => {
    const mux = setup();
    const first = mux.subscribe('a', 'payment:p1', 'a-1');
    expect(sends(first)).toEqual(['subscribe payment:p1']);
    expect(mux.subscribe('b', 'payment:p1', 'b-1')).toEqual([]); // waits for the same request
    expect(replies(mux.settle(ack(sent(first)))!)).toEqual(['a subscribed a-1', 'b subscribed b-1']);
    expect(replies(mux.subscribe('c', 'payment:p1', 'c-1'))).toEqual(['c subscribed c-1']); // joined: answered at once
  });

  it('leaves a room after the last member that wanted it, not before', () => {
    const mux = setup();
    mux.settle(ack(sent(mux.subscribe('a', 'payment:p1', 'a-1'))));
    mux.subscribe('b', 'payment:p1', 'b-1');
    expect(replies(mux.unsubscribe('a', 'payment:p1', 'a-2'))).toEqual(['a unsubscribed a-2']);
    const last = mux.unsubscribe('b', 'payment:p1', 'b-2');
    expect(sends(last)).toEqual(['unsubscribe payment:p1']);
    expect(replies(mux.settle(ack(sent(last)))!)).toEqual(['b unsubscribed b-2']);
    expect(mux.recipients('payment:p1')).toBeNull(); // nobody asked for it any more
  });

  it('never takes the socket out of a handshake room, and sends its events to everyone', () => {
    const mux = setup();
    expect(replies(mux.subscribe('a', 'user:alice', 'a-1'))).toEqual(['a subscribed a-1']);
    expect(replies(mux.unsubscribe('a', 'user:alice', 'a-2'))).toEqual(['a unsubscribed a-2']);
    expect(mux.memberLeft('a')).toEqual([]);
    expect(mux.recipients('user:alice')).toBeNull();
  });

  it('sends an event of a room to the members that asked for it', () => {
    const mux = setup();
    mux.subscribe('a', 'payment:p1', 'a-1');
    mux.subscribe('b', 'payment:p2', 'b-1');
    expect(mux.recipients('payment:p1')).toEqual(['a']);
    expect(mux.recipients('payment:p2')).toEqual(['b']);
  });

  it('passes a refusal to every member that asked, forgets the room for them, and asks again next time', () => {
    const mux = setup();
    const request = sent(mux.subscribe('a', 'payment:x', 'a-1'));
    mux.subscribe('b', 'payment:x', 'b-1');
    expect(replies(mux.settle(ack(request, true))!)).toEqual(['a error a-1', 'b error b-1']);
    expect(mux.roomsOf('a')).toEqual([]);
    expect(sends(mux.subscribe('c', 'payment:x', 'c-1'))).toEqual(['subscribe payment:x']);
  });

  it('leaves the rooms of a member that is gone, unless another member wants them', () => {
    const mux = setup();
    mux.settle(ack(sent(mux.subscribe('a', 'payment:p1', 'a-1'))));
    mux.settle(ack(sent(mux.subscribe('a', 'payment:p2', 'a-2'))));
    mux.subscribe('b', 'payment:p2', 'b-1');
    expect(sends(mux.memberLeft('a'))).toEqual(['unsubscribe payment:p1']);
  });

  it('joins every wanted room again on a new socket, and replies of the old one settle nothing', () => {
    const mux = setup();
    const old = sent(mux.subscribe('a', 'payment:p1', 'a-1'));
    mux.closed();
    expect(mux.settle(ack(old))).toBeNull();
    expect(sends(mux.opened(HANDSHAKE))).toEqual(['subscribe payment:p1']);
  });

  it('ignores replies that are not to its requests', () => {
    const mux = setup();
    expect(mux.settle({ type: 'subscribed', payload: { room: 'payment:p1' }, timestamp: TS, correlationId: 'sub-1-abc' })).toBeNull();
    expect(mux.settle({ type: 'subscribed', payload: { room: 'payment:p1' }, timestamp: TS })).toBeNull();
  });

  it('keeps the socket in exactly the rooms members want, and answers every request once, whatever the order (property)', () => {
    const members = ['a', 'b', 'c'];
    const rooms: Room[] = ['payment:p1', 'payment:p2', 'user:alice'];
    const op = fc.oneof(
      fc.record({ kind: fc.constantFrom('subscribe' as const, 'unsubscribe' as const), member: fc.constantFrom(...members), room: fc.constantFrom(...rooms) }),
      fc.record({ kind: fc.constant('leave' as const), member: fc.constantFrom(...members) }),
      fc.record({ kind: fc.constant('reply' as const), refuse: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const mux = setup();
        const gateway = new Set<Room>(HANDSHAKE); // what the gateway's room registry holds for the socket
        const inFlight: Array<ReturnType<typeof sent>> = [];
        const asked = new Map<string, number>(); // member request id → replies received
        const excused = new Set<string>(); // requests of a member that left before they were answered
        let seq = 0;
        const take = (actions: RoomAction[]) => {
          for (const a of actions) {
            if (a.type === 'send') inFlight.push(a.message as ReturnType<typeof sent>);
            else asked.set(a.message.correlationId!, (asked.get(a.message.correlationId!) ?? 0) + 1);
          }
        };
        const answer = (refuse: boolean) => {
          const request = inFlight.shift();
          if (!request) return;
          const refused = refuse && request.type === 'subscribe' && !HANDSHAKE.has(request.payload.room);
          if (!refused) request.type === 'subscribe' ? gateway.add(request.payload.room) : gateway.delete(request.payload.room);
          take(mux.settle(ack(request, refused)) ?? []);
        };
        for (const o of ops) {
          if (o.kind === 'reply') answer(o.refuse);
          else if (o.kind === 'leave') {
            for (const [id, count] of asked) if (count === 0 && id.startsWith(`${o.member}-`)) excused.add(id);
            take(mux.memberLeft(o.member));
          } else {
            const id = `${o.member}-${++seq}`;
            asked.set(id, 0);
            take(o.kind === 'subscribe' ? mux.subscribe(o.member, o.room, id) : mux.unsubscribe(o.member, o.room, id));
          }
        }
        while (inFlight.length > 0) answer(false);
        const wanted = new Set<Room>(HANDSHAKE);
        for (const m of members) for (const r of mux.roomsOf(m)) wanted.add(r);
        expect([...gateway].sort()).toEqual([...wanted].sort());
        // Every request is answered once, but those of a member that left before the answer came.
        for (const [id, count] of asked) expect(count).withContext(id).toBe(excused.has(id) ? 0 : 1);
      }),
      { numRuns: 500 },
    );
  });
});
