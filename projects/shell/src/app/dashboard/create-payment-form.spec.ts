import { TestBed, type ComponentFixture } from '@angular/core/testing';
import type { NewPayment } from '../core/api.types';
import { CreatePaymentForm } from './create-payment-form';

describe('CreatePaymentForm', () => {
  let fixture: ComponentFixture<CreatePaymentForm>;
  let el: HTMLElement;
  let created: NewPayment[];

  beforeEach(async () => {
    fixture = TestBed.createComponent(CreatePaymentForm);
    el = fixture.nativeElement as HTMLElement;
    created = [];
    fixture.componentInstance.create.subscribe((p) => created.push(p));
    await fixture.whenStable();
  });

  const type = (id: string, value: string) => {
    const input = el.querySelector<HTMLInputElement>(`#${id}`)!;
    input.value = value;
    input.dispatchEvent(new Event('input'));
  };
  const submit = async () => {
    el.querySelector<HTMLButtonElement>('button[type="submit"]')!.click();
    await fixture.whenStable();
  };

  for (const bad of ['', 'abc', '12.505', '0', '0.00', '-3', '1e3']) {
    it(`refuses the amount ${JSON.stringify(bad)} and says why`, async () => {
      type('amount', bad);
      type('description', 'Rent');
      await submit();
      expect(created).toEqual([]);
      expect(el.querySelector('#amount')!.getAttribute('aria-invalid')).toBe('true');
      expect(el.querySelector('#amount-error')!.textContent).toContain('greater than 0');
      expect(document.activeElement?.id).toBe('amount');
    });
  }

  it('emits the amount as a decimal string (never a float), trimmed, with the chosen currency', async () => {
    type('amount', ' 12.5 ');
    type('description', '  Coffee beans ');
    const currency = el.querySelector<HTMLSelectElement>('#currency')!;
    currency.value = 'CHF';
    currency.dispatchEvent(new Event('change'));
    await submit();
    expect(created).toEqual([]); // leading/trailing spaces are not a valid amount pattern
    type('amount', '12.5');
    await submit();
    expect(created).toEqual([{ amount: '12.5', currency: 'CHF', description: 'Coffee beans' }]);
  });

  it('needs a description', async () => {
    type('amount', '3.00');
    type('description', '   ');
    await submit();
    expect(created).toEqual([]);
    expect(el.querySelector('#description-error')).not.toBeNull();
  });

  it('clears itself and returns focus to the amount when the parent reports success', async () => {
    type('amount', '3.00');
    type('description', 'Tea');
    await submit();
    fixture.componentRef.setInput('busy', true);
    await fixture.whenStable();
    fixture.componentRef.setInput('busy', false);
    await fixture.whenStable();
    expect(el.querySelector<HTMLInputElement>('#amount')!.value).toBe('');
    expect(document.activeElement?.id).toBe('amount');
    expect(el.querySelector('[role="status"]')!.textContent).toContain('Payment created');
  });
});
