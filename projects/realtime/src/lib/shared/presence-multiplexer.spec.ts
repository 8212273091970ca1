import type { ErrorCode, PresenceRoom } from '@payments-system/protocol';
import fc from 'fast-check';
import { TS } from '../../spec-helpers/server-messages';
import { PresenceMultiplexer, type PresenceAction, type PresenceReply } from './presence-multiplexer';

type Sent = Extract<PresenceAction, { type: 'send' }>['message'] & { correlationId: string };

function setup() {
  let n = 0;
  const mux = new PresenceMultiplexer((prefix) => `${prefix}-${++n}`, () => Date.parse(TS));
  mux.opened();
  return mux;
}

const sends = (actions: PresenceAction[]) =>
  actions.flatMap((a) => (a.type === 'send' ? [`${a.message.payload.watch ? 'watch' : 'unwatch'} ${a.message.payload.room}`] : []));
const replies = (actions: PresenceAction[]) =>
  actions.flatMap((a) => (a.type === 'reply' ? [`${a.to} ${a.message.type} ${a.message.correlationId ?? '-'}`] : []));
const sent = (actions: PresenceAction[]) => actions.find((a) => a.type === 'send')!.message as Sent;

function list(request: Sent, userIds: readonly string[] = ['alice']): PresenceReply {
  const members = userIds.map((userId) => ({ userId, role: 'CUSTOMER' as const, connections: 1 }));
  return { type: 'presence', payload: { room: request.payload.room, members }, timestamp: TS, correlationId: request.correlationId };
}

function refusal(request: Sent, code: ErrorCode): PresenceReply {
  return { type: 'error', payload: { code, message: 'no', room: request.payload.room }, timestamp: TS, correlationId: request.correlationId };
}

describe('PresenceMultiplexer (one socket, many members watching)', () => {
  it('asks the gateway once for members that watch the same room, and answers each with its own id', () => {
    const mux = setup();
    const first = mux.ask('a', 'user:alice', true, 'a-1');
    expect(sends(first)).toEqual(['watch user:alice']);
    expect(mux.ask('b', 'user:alice', true, 'b-1')).toEqual([]); // waits for the same request
    expect(replies(mux.settle(list(sent(first)))!)).toEqual(['a presence a-1', 'b presence b-1']);
  });

  it("keeps watching while another member watches: a member's watch:false becomes a watch that lists", () => {
    const mux = setup();
    mux.settle(list(sent(mux.ask('a', 'user:alice', true, 'a-1'))));
    mux.settle(list(sent(mux.ask('b', 'user:alice', true, 'b-1'))));
    const stop = mux.ask('a', 'user:alice', false, 'a-2');
    expect(sends(stop)).toEqual(['watch user:alice']); // the socket keeps its watch
    // a gets its list; b, which still watches, gets the same list unasked (it replaces what b knew).
    expect(replies(mux.settle(list(sent(stop)))!)).toEqual(['a presence a-2', 'b presence -']);
    expect(mux.recipients('user:alice')).toEqual(['b']);
    const last = mux.ask('b', 'user:alice', false, 'b-2');
    expect(sends(last)).toEqual(['unwatch user:alice']);
    expect(replies(mux.settle(list(sent(last)))!)).toEqual(['b presence b-2']);
    expect(mux.recipients('user:alice')).toBeNull();
  });

  it('sends changes of a room to the members that watch it', () => {
    const mux = setup();
    mux.ask('a', 'user:alice', true, 'a-1');
    mux.ask('b', 'payment:p1', true, 'b-1');
    mux.ask('c', 'user:alice', true, 'c-1');
    expect(mux.recipients('user:alice')).toEqual(['a', 'c']);
    expect(mux.recipients('payment:p1')).toEqual(['b']);
    expect(mux.recipients('user:bob')).toBeNull();
  });

  it('stops watching the rooms of a member that is gone, unless another member watches them', () => {
    const mux = setup();
    mux.settle(list(sent(mux.ask('a', 'user:alice', true, 'a-1'))));
    mux.settle(list(sent(mux.ask('a', 'user:bob', true, 'a-2'))));
    mux.ask('b', 'user:bob', true, 'b-1');
    expect(sends(mux.memberLeft('a'))).toEqual(['unwatch user:alice']);
    expect(mux.watchesOf('a')).toEqual([]);
  });

  it('passes a refusal to every member that asked and ends their watch; a transient one leaves it for them to retry', () => {
    const mux = setup();
    const forbidden = sent(mux.ask('a', 'user:mallory', true, 'a-1'));
    mux.ask('b', 'user:mallory', true, 'b-1');
    expect(replies(mux.settle(refusal(forbidden, 'FORBIDDEN'))!)).toEqual(['a error a-1', 'b error b-1']);
    expect(mux.watchesOf('a')).toEqual([]);
    expect(mux.recipients('user:mallory')).toBeNull();

    const busy = sent(mux.ask('a', 'user:alice', true, 'a-2'));
    expect(replies(mux.settle(refusal(busy, 'SERVICE_UNAVAILABLE'))!)).toEqual(['a error a-2']);
    expect(mux.watchesOf('a')).toEqual(['user:alice']);
    expect(sends(mux.ask('a', 'user:alice', true, 'a-3'))).toEqual(['watch user:alice']);
  });

  it('watches every watched room again on a new socket (a new owner, from the roster), and replies of the old one settle nothing', () => {
    const mux = new PresenceMultiplexer((prefix) => `${prefix}-x`, () => Date.parse(TS));
    mux.restore('a', ['user:alice', 'payment:p1']);
    mux.restore('b', ['user:alice']);
    const old = sent(mux.opened());
    mux.closed();
    expect(mux.settle(list(old))).toBeNull();
    expect(sends(mux.opened())).toEqual(['watch user:alice', 'watch payment:p1']);
  });

  it('gives the list of a request nobody waits for any more to the members that watch the room', () => {
    const mux = new PresenceMultiplexer((prefix) => `${prefix}-1`, () => Date.parse(TS));
    mux.restore('a', ['user:alice']);
    const rewatch = sent(mux.opened());
    expect(replies(mux.settle(list(rewatch))!)).toEqual(['a presence -']);
  });

  it('ignores replies that are not to its requests', () => {
    const mux = setup();
    expect(mux.settle({ type: 'presence', payload: { room: 'user:alice', members: [] }, timestamp: TS, correlationId: 'presence-1' })).toBeNull();
    expect(mux.settle({ type: 'presence', payload: { room: 'user:alice', members: [] }, timestamp: TS })).toBeNull();
  });

  it('keeps the socket watching exactly the rooms members watch, and answers every request once, whatever the order (property)', () => {
    const members = ['a', 'b', 'c'];
    const rooms: PresenceRoom[] = ['user:alice', 'payment:p1', 'user:mallory'];
    const FORBIDDEN_ROOM: PresenceRoom = 'user:mallory'; // the gateway refuses it every time
    const op = fc.oneof(
      fc.record({ kind: fc.constant('ask' as const), member: fc.constantFrom(...members), room: fc.constantFrom(...rooms), watch: fc.boolean() }),
      fc.record({ kind: fc.constant('leave' as const), member: fc.constantFrom(...members) }),
      fc.record({ kind: fc.constant('reply' as const), busy: fc.boolean() }),
      fc.record({ kind: fc.constant('reconnect' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const mux = setup();
        // The gateway's watches of the socket: a watch:true that lists watches; one whose list fails keeps an
        // established watch and drops a new one; a watch:false stops watching, listed or not.
        const gateway = new Set<PresenceRoom>();
        let inFlight: Sent[] = [];
        const asked = new Map<string, { member: string; room: PresenceRoom; answers: number }>();
        const excused = new Set<string>();
        let seq = 0;
        const ask = (member: string, room: PresenceRoom, watch: boolean) => {
          const id = `${member}-${++seq}`;
          asked.set(id, { member, room, answers: 0 });
          take(mux.ask(member, room, watch, id));
        };
        const take = (actions: PresenceAction[]) => {
          const retries: Array<[string, PresenceRoom]> = [];
          for (const a of actions) {
            if (a.type === 'send') inFlight.push(a.message as Sent);
            else if (a.message.correlationId !== undefined) {
              const request = asked.get(a.message.correlationId)!;
              request.answers++;
              // A member whose watch met a transient refusal asks again (as PresenceWatches does), if it still watches.
              if (a.message.type === 'error' && a.message.payload.code === 'SERVICE_UNAVAILABLE') retries.push([request.member, request.room]);
            }
          }
          for (const [member, room] of retries) if (mux.watchesOf(member).includes(room)) ask(member, room, true);
        };
        const answer = (busy: boolean) => {
          const request = inFlight.shift();
          if (!request) return;
          const { room, watch } = request.payload;
          if (room === FORBIDDEN_ROOM) return take(mux.settle(refusal(request, 'FORBIDDEN')) ?? []);
          if (!watch) gateway.delete(room);
          if (busy) return take(mux.settle(refusal(request, 'SERVICE_UNAVAILABLE')) ?? []);
          if (watch) gateway.add(room);
          take(mux.settle(list(request)) ?? []);
        };
        const excuseUnanswered = (member: string | null) => {
          for (const [id, request] of asked) if (request.answers === 0 && (member === null || request.member === member)) excused.add(id);
        };
        for (const o of ops) {
          if (o.kind === 'reply') answer(o.busy);
          else if (o.kind === 'leave') {
            excuseUnanswered(o.member);
            take(mux.memberLeft(o.member));
          } else if (o.kind === 'reconnect') {
            // The socket is gone with its watches and the requests on it; on the next one every member asks again.
            excuseUnanswered(null);
            mux.closed();
            gateway.clear();
            inFlight = [];
            take(mux.opened());
            for (const m of members) for (const room of mux.watchesOf(m)) ask(m, room, true);
          } else ask(o.member, o.room, o.watch);
        }
        while (inFlight.length > 0) answer(false);
        const watched = new Set<PresenceRoom>();
        for (const m of members) for (const room of mux.watchesOf(m)) watched.add(room);
        expect([...gateway].sort()).toEqual([...watched].sort());
        expect(watched.has(FORBIDDEN_ROOM)).toBeFalse();
        for (const [id, request] of asked) expect(request.answers).withContext(id).toBe(excused.has(id) ? 0 : 1);
      }),
      { numRuns: 500 },
    );
  });
});
