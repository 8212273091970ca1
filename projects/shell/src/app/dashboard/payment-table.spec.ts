import { TestBed } from '@angular/core/testing';
import { payment } from '../../testing/fakes';
import type { PaymentRow } from '../state/payments.feature';
import { PaymentTable } from './payment-table';

const row = (overrides: Partial<PaymentRow>): PaymentRow => ({ ...payment(overrides), changeId: null, ...overrides });

describe('PaymentTable', () => {
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
});
