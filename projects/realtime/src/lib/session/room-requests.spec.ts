import type { ClientMessage, Room } from '@payments-system/protocol';
import { firstValueFrom } from 'rxjs';
import { TS } from '../../spec-helpers/server-messages';
import type { RealtimeConnectionState } from '../connection/connection-state';
import { RealtimeRequestError } from '../errors';
import { RoomRequests, type RoomReply } from './room-requests';

/** A fake connection: a state the test sets, and the messages the requests wrote. */
function setup(initial: RealtimeConnectionState = 'connected') {
  const link = {
    current: initial,
    written: [] as ClientMessage[],
    state: () => link.current,
    write: (message: ClientMessage) => link.current === 'connected' && link.written.push(message) > 0,
    nextId: (prefix: string) => `${prefix}-${link.written.length + 1}`,
    now: () => Date.parse(TS),
  };
  const rooms = new RoomRequests(link, 3000);
  const sent = (type: 'subscribe' | 'unsubscribe') =>
    link.written.filter((m): m is ClientMessage<typeof type> => m.type === type).map((m) => m.payload.room);
  const reply = (type: RoomReply['type'], correlationId: string | undefined, room: Room = 'payment:p1'): RoomReply =>
    type === 'error'
      ? { type, payload: { code: 'FORBIDDEN', message: 'not yours', room }, timestamp: TS, correlationId }
      : { type, payload: { room }, timestamp: TS, correlationId };
  const lastId = () => link.written.at(-1)?.correlationId;
  return { link, rooms, sent, reply, lastId };
}

describe('RoomRequests (fake connection)', () => {
  it('settles subscribe() with the reply that carries its correlation id only', async () => {
    const { rooms, reply, lastId } = setup();
    const ack = firstValueFrom(rooms.subscribe('payment:p1'));
    rooms.settle(reply('subscribed', 'someone-else'));
    rooms.settle(reply('subscribed', undefined));
    rooms.settle(reply('subscribed', lastId()));
    await expectAsync(ack).toBeResolvedTo({ room: 'payment:p1', correlationId: 'sub-1' });
  });

  it('refcounts room() observers: joins on the first, leaves after the last', () => {
    const { rooms, sent } = setup();
    rooms.acquire('role:ADMIN');
    rooms.acquire('role:ADMIN');
    rooms.release('role:ADMIN');
    expect(sent('unsubscribe')).toEqual([]);
    rooms.release('role:ADMIN');
    expect(sent('subscribe')).toEqual(['role:ADMIN']);
    expect(sent('unsubscribe')).toEqual(['role:ADMIN']);
  });

  it('keeps a room pinned by subscribe() when its room() observers leave, and unsubscribe() then leaves', async () => {
    const { rooms, sent, reply, lastId } = setup();
    const ack = firstValueFrom(rooms.subscribe('payment:p1'));
    rooms.settle(reply('subscribed', lastId()));
    await ack;
    rooms.acquire('payment:p1');
    rooms.release('payment:p1');
    expect(sent('unsubscribe')).toEqual([]);
    const left = firstValueFrom(rooms.unsubscribe('payment:p1'));
    rooms.settle(reply('unsubscribed', lastId()));
    await expectAsync(left).toBeResolvedTo({ room: 'payment:p1', correlationId: 'unsub-2' });
  });

  it('rejoins every wanted room once on open, and forgets a room the gateway refused', async () => {
    const { link, rooms, sent, reply, lastId } = setup();
    rooms.acquire('payment:p2');
    const refused = firstValueFrom(rooms.subscribe('user:other'));
    rooms.settle(reply('error', lastId(), 'user:other'));
    await expectAsync(refused).toBeRejectedWith(jasmine.objectContaining({ code: 'FORBIDDEN', room: 'user:other' }));
    void rooms.subscribe('payment:p1').subscribe({ error: () => undefined });
    link.written.length = 0;
    rooms.rejoinAll();
    expect(sent('subscribe')).toEqual(['payment:p1', 'payment:p2']);
  });

  it('times out a request with no reply, and a late reply changes nothing', () => {
    jasmine.clock().install();
    try {
      const { rooms, reply, lastId } = setup();
      let error: unknown;
      rooms.subscribe('payment:p1').subscribe({ error: (e: unknown) => (error = e) });
      jasmine.clock().tick(2999);
      expect(error).toBeUndefined();
      jasmine.clock().tick(1);
      expect(error).toEqual(jasmine.any(RealtimeRequestError));
      expect((error as RealtimeRequestError).code).toBe('TIMEOUT');
      expect(() => rooms.settle(reply('subscribed', lastId()))).not.toThrow();
    } finally {
      jasmine.clock().uninstall();
    }
  });

  it('while reconnecting, waits for the next open; once disconnected, rejects with DISCONNECTED', async () => {
    const { link, rooms, reply, lastId } = setup('reconnecting');
    const waiting = firstValueFrom(rooms.subscribe('payment:p9'));
    link.current = 'connected';
    rooms.rejoinAll();
    rooms.settle(reply('subscribed', lastId(), 'payment:p9'));
    await expectAsync(waiting).toBeResolvedTo(jasmine.objectContaining({ room: 'payment:p9' }));

    link.current = 'reconnecting';
    const stranded = firstValueFrom(rooms.subscribe('payment:p8'));
    link.current = 'disconnected';
    rooms.stateChanged('disconnected');
    await expectAsync(stranded).toBeRejectedWith(jasmine.objectContaining({ code: 'DISCONNECTED', room: 'payment:p8' }));
    await expectAsync(firstValueFrom(rooms.subscribe('payment:p7'))).toBeRejectedWith(
      jasmine.objectContaining({ code: 'DISCONNECTED', message: jasmine.stringMatching(/call connect\(\)/) }),
    );
  });

  it('drops requests in flight when the socket goes: their replies no longer settle anything', () => {
    jasmine.clock().install();
    try {
      const { rooms, reply, lastId } = setup();
      const results: string[] = [];
      rooms.subscribe('payment:p1').subscribe({ next: () => results.push('ack'), error: (e: RealtimeRequestError) => results.push(e.code) });
      const id = lastId();
      rooms.stateChanged('reconnecting');
      jasmine.clock().tick(10_000); // no TIMEOUT: the timer died with the request
      rooms.settle(reply('subscribed', id));
      expect(results).toEqual([]);
    } finally {
      jasmine.clock().uninstall();
    }
  });

  it('reports FORBIDDEN and BAD_REQUEST refusals of a room to its room() observers', () => {
    const { rooms, reply, lastId } = setup();
    const refusals: string[] = [];
    rooms.refusals('role:ADMIN').subscribe((e) => refusals.push(`${e.code} ${e.room}`));
    rooms.acquire('role:ADMIN');
    rooms.settle(reply('error', lastId(), 'role:ADMIN'));
    expect(refusals).toEqual(['FORBIDDEN role:ADMIN']);
  });
});
