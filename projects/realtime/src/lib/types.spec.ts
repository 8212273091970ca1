/**
 * Compile-time tests of the public types: this file must type-check (the spec build fails otherwise),
 * and every `@ts-expect-error` line must really be an error (an unused one fails the build too).
 */
import type { PaymentUpdatedPayload, ServerMessage, SessionSyncPayload } from '@payments-system/protocol';
import type { Observable } from 'rxjs';
import type { RealtimeService } from './realtime.service';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(value: T): T => value;

const onPayment = (service: RealtimeService) => service.on('payment:updated');
const onPong = (service: RealtimeService) => service.on('pong');

function typeChecks(service: RealtimeService): void {
  service.on('payment:updated').subscribe((message) => {
    const payload: PaymentUpdatedPayload = message.payload;
    const amount: string = message.payload.amount;
    // @ts-expect-error a payment:updated payload has no sessionId
    void message.payload.sessionId;
    // @ts-expect-error the message type is narrowed to the literal
    const other: 'session:sync' = message.type;
    void [payload, amount, other];
  });
  service.on('session:sync').subscribe((message) => {
    const payload: SessionSyncPayload = message.payload;
    void payload;
  });
  // @ts-expect-error not a server message type
  service.on('payment:deleted');
  // @ts-expect-error not a room name
  void service.subscribe('admin:all');
  // @ts-expect-error not a client message
  service.send({ type: 'publish', payload: {} });
}

describe('public types (compile-time)', () => {
  it("on('payment:updated') yields Observable<ServerMessage<'payment:updated'>>", () => {
    assertType<Equals<ReturnType<typeof onPayment>, Observable<ServerMessage<'payment:updated'>>>>(true);
    assertType<Equals<ServerMessage<'payment:updated'>['payload'], PaymentUpdatedPayload>>(true);
    assertType<Equals<ReturnType<typeof onPong>, Observable<ServerMessage<'pong'>>>>(true);
    // and it is not merely the wide union:
    const wide: Equals<ReturnType<typeof onPayment>, Observable<ServerMessage>> = false;
    expect(wide).toBeFalse();
    expect(typeof typeChecks).toBe('function');
  });
});
