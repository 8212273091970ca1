import type { FakeWebSocket } from '@payments-system/realtime/testing';
import type { PaymentUpdatedPayload, Room, ServerMessage } from '@payments-system/protocol';

/** Fixed timestamp for server frames built in unit specs (valid ISO 8601). */
export const TS = '2026-12-11T10:00:00.000Z';

let lastEventSequence = 0;

/** A payment event published to `room`; each call gets a new, higher event id unless one is given. */
export function paymentUpdated(
  paymentId: string,
  status: PaymentUpdatedPayload['status'] = 'completed',
  id = `1765447200000-${++lastEventSequence}`,
  room?: Room,
): ServerMessage<'payment:updated'> {
  const payload = { paymentId, status, amount: '100.00', currency: 'EUR' };
  return { type: 'payment:updated', payload, timestamp: TS, id, ...(room === undefined ? {} : { room }) };
}

/** Plays the gateway: answers every `subscribe`/`unsubscribe` the client sent since the last call. */
export function ackRooms(socket: FakeWebSocket, refuse: readonly string[] = []): void {
  const answered = (socket as unknown as { __answered?: number }).__answered ?? 0;
  const messages = socket.messages.slice(answered);
  (socket as unknown as { __answered?: number }).__answered = socket.messages.length;
  for (const m of messages) {
    if (m.type !== 'subscribe' && m.type !== 'unsubscribe') continue;
    const room = (m.payload as { room: Room }).room;
    if (refuse.includes(room)) {
      socket.receive({ type: 'error', payload: { code: 'FORBIDDEN', message: 'not your room', room }, timestamp: TS, correlationId: m.correlationId });
    } else {
      socket.receive({ type: m.type === 'subscribe' ? 'subscribed' : 'unsubscribed', payload: { room }, timestamp: TS, correlationId: m.correlationId });
    }
  }
}

/** A JWT-shaped token (unsigned: the client never verifies) with the given `exp` in seconds, and other claims. */
export function fakeJwt(exp: number, sub = 'u1', claims: Readonly<Record<string, unknown>> = {}): string {
  const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ userId: sub, exp, ...claims })}.c2ln`;
}

/** Lets pending promise callbacks run (microtasks), e.g. between jasmine clock ticks. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
