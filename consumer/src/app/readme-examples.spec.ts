// Runs the README's other examples against the testing entry point.
import { TestBed } from '@angular/core/testing';
import type { ServerMessage } from '@payments-system/protocol';
import { RealtimeService } from '@payments-system/realtime';
import { provideRealtimeTesting, RealtimeTestingController } from '@payments-system/realtime/testing';
import { paymentCompleted, publishError } from '../protocol/publish-request';
import { appConfig } from './app.config';
import { AuthService } from './auth.service';
import { OnlineBadgeComponent } from './online-badge.component';
import { PaymentFollower } from './payment-follower.service';
import { PaymentViewersComponent } from './payment-viewers.component';
import { PaymentStatusComponent } from './payment-status.component';
import { realtimeFromRuntimeConfig, RUNTIME_CONFIG } from './runtime-config';

const at = new Date().toISOString();

function reply(gateway: RealtimeTestingController, type: 'subscribed' | 'unsubscribed' | 'error'): void {
  const request = gateway.latest.messages.at(-1)!;
  const room = (request.payload as { room: 'payment:pay_1' }).room;
  const message: ServerMessage =
    type === 'error'
      ? { type, payload: { code: 'FORBIDDEN', message: 'not yours', room }, timestamp: at, correlationId: request.correlationId }
      : { type, payload: { room }, timestamp: at, correlationId: request.correlationId };
  gateway.latest.receive(message);
}

describe('the README examples', () => {
  function signedIn(providers = appConfig.providers) {
    TestBed.configureTestingModule({ providers: [...providers, provideRealtimeTesting()] });
    TestBed.inject(AuthService).accessToken.set('token-a');
    TestBed.tick();
    const gateway = TestBed.inject(RealtimeTestingController);
    gateway.latest.open();
    return gateway;
  }

  it('app.config.ts connects with the signed-in token, and waits while signed out', () => {
    TestBed.configureTestingModule({ providers: [...appConfig.providers, provideRealtimeTesting()] });
    const gateway = TestBed.inject(RealtimeTestingController);
    expect(gateway.sockets.length).toBe(0);
    TestBed.inject(AuthService).accessToken.set('token-a');
    TestBed.tick();
    expect(gateway.latest.bearerToken).toBe('token-a');
  });

  it('the payment-status component joins its room and shows the status', () => {
    const gateway = signedIn();
    const fixture = TestBed.createComponent(PaymentStatusComponent);
    fixture.componentRef.setInput('paymentId', 'pay_1');
    fixture.detectChanges();
    expect(gateway.latest.sentOfType('subscribe').map((m) => m.payload.room)).toEqual(['payment:pay_1']);
    reply(gateway, 'subscribed');
    gateway.latest.receive({
      type: 'payment:updated',
      payload: { paymentId: 'pay_1', status: 'processing', amount: '1.00', currency: 'EUR' },
      timestamp: at,
      room: 'payment:pay_1',
    });
    fixture.detectChanges();
    expect((fixture.nativeElement as HTMLElement).textContent).toBe('processing');
  });

  it('PaymentFollower reports a refused room', async () => {
    const gateway = signedIn();
    const follower = TestBed.inject(PaymentFollower);
    const refused = follower.follow('pay_1');
    reply(gateway, 'error');
    expect(await refused).toBe('You cannot follow this payment');
  });

  it('the online badge watches the user room and follows joined and left', () => {
    const gateway = signedIn();
    const fixture = TestBed.createComponent(OnlineBadgeComponent);
    fixture.componentRef.setInput('userId', 'alice');
    fixture.detectChanges();
    const [watch] = gateway.latest.sentOfType('presence');
    expect(watch!.payload).toEqual({ room: 'user:alice', watch: true });
    gateway.latest.receive({ type: 'presence', payload: { room: 'user:alice', members: [] }, timestamp: at, correlationId: watch!.correlationId });
    fixture.detectChanges();
    expect((fixture.nativeElement as HTMLElement).textContent).toBe('offline');
    gateway.latest.receive({ type: 'presence:joined', payload: { room: 'user:alice', userId: 'alice', role: 'CUSTOMER' }, timestamp: at });
    fixture.detectChanges();
    expect((fixture.nativeElement as HTMLElement).textContent).toBe('online');
  });

  it('the payment viewers component is in the room and lists who else is', () => {
    const gateway = signedIn();
    const fixture = TestBed.createComponent(PaymentViewersComponent);
    fixture.componentRef.setInput('paymentId', 'pay_1');
    fixture.detectChanges();
    expect(gateway.latest.sentOfType('subscribe').map((m) => m.payload.room)).toEqual(['payment:pay_1']);
    const [watch] = gateway.latest.sentOfType('presence');
    gateway.latest.receive({
      type: 'presence',
      payload: { room: 'payment:pay_1', members: [{ userId: 'admin_1', role: 'ADMIN', connections: 1 }] },
      timestamp: at,
      correlationId: watch!.correlationId,
    });
    fixture.detectChanges();
    expect((fixture.nativeElement as HTMLElement).textContent).toContain('admin_1 (ADMIN)');
  });

  it('provideRealtime(() => config) reads runtime configuration', () => {
    const gateway = signedIn([{ provide: RUNTIME_CONFIG, useValue: { realtimeUrl: 'wss://rt.example.com/ws' } }, realtimeFromRuntimeConfig]);
    expect(gateway.latest.url).toBe('wss://rt.example.com/ws');
    expect(TestBed.inject(RealtimeService).state()).toBe('connected');
  });

  it("the protocol README's publish body is valid, and a bad one is named by its field", () => {
    expect(publishError(paymentCompleted('pay_1', '12.50'))).toBeNull();
    expect(publishError({ ...paymentCompleted('pay_1', '12.50'), payload: { paymentId: 'pay_1', status: 'paid', amount: '1', currency: 'EUR' } })).toMatch(
      /^payload\.status: /,
    );
  });
});
