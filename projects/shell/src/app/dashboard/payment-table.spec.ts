import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import type { PresenceRoom } from '@payments-system/protocol';
import { provideRealtime } from '@payments-system/realtime';
import { provideRealtimeTesting, RealtimeTestingController } from '@payments-system/realtime/testing';
import { payment } from '../../testing/fakes';
import type { PaymentRow } from '../state/payments.feature';
import { PaymentTable } from './payment-table';

const row = (overrides: Partial<PaymentRow>): PaymentRow => ({ ...payment(overrides), changeId: null, ...overrides });
const TS = '2026-01-01T10:00:00.000Z';

describe('PaymentTable', () => {
  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [provideRouter([]), provideRealtime({ url: '/ws', token: 'admin-token', heartbeat: false }), provideRealtimeTesting()],
    });
  });

  async function render(rows: PaymentRow[], admin: boolean) {
    const fixture = TestBed.createComponent(PaymentTable);
    fixture.componentRef.setInput('rows', rows);
    fixture.componentRef.setInput('canChangeStatus', admin);
    fixture.componentRef.setInput('showOwner', admin);
    await fixture.whenStable();
    return fixture;
  }

  it('offers admins only the legal next statuses of each payment', async () => {
    const fixture = await render(
      [
        row({ paymentId: 'p_pending', status: 'pending' }),
        row({ paymentId: 'p_processing', status: 'processing' }),
        row({ paymentId: 'p_completed', status: 'completed' }),
        row({ paymentId: 'p_failed', status: 'failed' }),
      ],
      true,
    );
    const el = fixture.nativeElement as HTMLElement;
    const actions = (id: string) =>
      [...el.querySelectorAll(`tr[data-payment-id="${id}"] button`)].map((b) => b.getAttribute('data-action'));
    expect(actions('p_pending')).toEqual(['processing']);
    expect(actions('p_processing')).toEqual(['completed', 'failed']);
    expect(actions('p_completed')).toEqual(['refunded']);
    expect(actions('p_failed')).toEqual([]);
    expect(el.querySelector('tr[data-payment-id="p_failed"]')!.textContent).toContain('Final');
    // Each button says what it does to which payment.
    expect(el.querySelector('tr[data-payment-id="p_pending"] button')!.getAttribute('aria-label')).toBe('Start processing: Coffee beans');
  });

  it('emits the chosen status change', async () => {
    const fixture = await render([row({ paymentId: 'p1', status: 'processing' })], true);
    const emitted: unknown[] = [];
    fixture.componentInstance.statusChange.subscribe((c) => emitted.push(c));
    (fixture.nativeElement as HTMLElement).querySelector<HTMLButtonElement>('button[data-action="failed"]')!.click();
    expect(emitted).toEqual([{ paymentId: 'p1', status: 'failed' }]);
  });

  it('shows customers their payments read-only, amounts exact, and highlights what just changed', async () => {
    const fixture = await render(
      [row({ paymentId: 'p1', amount: '1234567.05', currency: 'EUR', status: 'completed', previousStatus: 'processing', changeId: 'p1@t' })],
      false,
    );
    const el = fixture.nativeElement as HTMLElement;
    expect(el.querySelectorAll('button').length).toBe(0);
    expect(el.querySelector('th[scope="row"]')!.textContent).toContain('Coffee beans');
    expect(el.querySelector('td.num')!.textContent).toContain('1,234,567.05');
    const tr = el.querySelector('tr[data-payment-id="p1"]')!;
    expect(tr.classList).toContain('row--changed');
    expect(tr.textContent).toContain('Completed');
    expect(tr.textContent).toContain('was Processing');
  });

  it("shows admins whether each customer is online, with one watch per customer, live", async () => {
    const gateway = TestBed.inject(RealtimeTestingController);
    gateway.latest.open();
    const fixture = await render(
      [row({ paymentId: 'p1', ownerId: 'alice' }), row({ paymentId: 'p2', ownerId: 'bob' }), row({ paymentId: 'p3', ownerId: 'alice' })],
      true,
    );
    const requests = gateway.latest.sentOfType('presence');
    expect(requests.map((m) => [m.payload.room, m.payload.watch])).toEqual([['user:alice', true], ['user:bob', true]]);
    for (const request of requests) {
      const room = request.payload.room as PresenceRoom;
      const members = room === 'user:alice' ? [{ userId: 'alice', role: 'CUSTOMER' as const, connections: 2 }] : [];
      gateway.latest.receive({ type: 'presence', payload: { room, members }, timestamp: TS, correlationId: request.correlationId });
    }
    await fixture.whenStable();
    const el = fixture.nativeElement as HTMLElement;
    const status = (id: string) => el.querySelector(`tr[data-payment-id="${id}"] .presence`)!.getAttribute('data-presence');
    expect([status('p1'), status('p2'), status('p3')]).toEqual(['online', 'offline', 'online']);
    expect(el.querySelector('tr[data-payment-id="p1"] td.customer')!.textContent).toContain('alice online');

    gateway.latest.receive({ type: 'presence:left', payload: { room: 'user:alice', userId: 'alice' }, timestamp: TS });
    gateway.latest.receive({ type: 'presence:joined', payload: { room: 'user:bob', userId: 'bob', role: 'CUSTOMER' }, timestamp: TS });
    await fixture.whenStable();
    expect([status('p1'), status('p2'), status('p3')]).toEqual(['offline', 'online', 'offline']);
  });

  it('links admins to each payment’s page; customers get no link', async () => {
    const admin = await render([row({ paymentId: 'p1' })], true);
    expect((admin.nativeElement as HTMLElement).querySelector('a.payment__desc')!.getAttribute('href')).toBe('/payments/p1');
    const customer = await render([row({ paymentId: 'p1' })], false);
    expect((customer.nativeElement as HTMLElement).querySelector('a')).toBeNull();
    expect((customer.nativeElement as HTMLElement).querySelector('.presence')).toBeNull();
  });
});
