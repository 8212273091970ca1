import { Component, effect, ElementRef, inject, input, output, signal, untracked, viewChild } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { PAYMENT_CURRENCIES, type PaymentCurrency } from '@payments-system/protocol';
import type { NewPayment } from '../core/api.types';
import { AMOUNT_PATTERN } from '../core/payment-rules';

/** A customer's new payment: amount (a decimal string, never a float), currency, description. */
@Component({
  selector: 'app-create-payment-form',
  imports: [ReactiveFormsModule],
  template: `
    <form [formGroup]="form" (ngSubmit)="submit()" novalidate class="create-form" aria-labelledby="create-title">
      <h2 id="create-title">New payment</h2>
      <div class="create-form__fields">
        <div class="field field--amount">
          <label for="amount">Amount</label>
          <input #amountInput id="amount" formControlName="amount" inputmode="decimal" autocomplete="off" placeholder="12.50"
                 [attr.aria-invalid]="invalid('amount')" aria-describedby="amount-hint amount-error" />
          <p id="amount-hint" class="field__hint">Up to 2 decimals</p>
          @if (invalid('amount')) {
            <p id="amount-error" class="field__error">Enter an amount greater than 0, such as 12.50.</p>
          }
        </div>
        <div class="field field--currency">
          <label for="currency">Currency</label>
          <select id="currency" formControlName="currency">
            @for (c of currencies; track c) { <option [value]="c">{{ c }}</option> }
          </select>
        </div>
        <div class="field field--desc">
          <label for="description">Description</label>
          <input id="description" formControlName="description" maxlength="280" autocomplete="off" placeholder="What is it for?"
                 [attr.aria-invalid]="invalid('description')" aria-describedby="description-error" />
          @if (invalid('description')) {
            <p id="description-error" class="field__error">Describe the payment (up to 280 characters).</p>
          }
        </div>
        <div class="field field--submit">
          <button type="submit" class="btn btn--primary" [disabled]="busy()" [attr.aria-busy]="busy()">
            {{ busy() ? 'Creating…' : 'Create payment' }}
          </button>
        </div>
      </div>
      @if (error(); as error) { <p class="form-error" role="alert">{{ error }}</p> }
      <p class="visually-hidden" role="status">{{ confirmation() }}</p>
    </form>
  `,
})
export class CreatePaymentForm {
  readonly busy = input(false);
  readonly error = input<string | null>(null);
  readonly create = output<NewPayment>();

  private readonly amountInput = viewChild.required<ElementRef<HTMLInputElement>>('amountInput');
  protected readonly currencies = PAYMENT_CURRENCIES;
  protected readonly submitted = signal(false);
  protected readonly confirmation = signal('');
  protected readonly form = inject(NonNullableFormBuilder).group({
    amount: ['', [Validators.required, Validators.pattern(AMOUNT_PATTERN), positive]],
    currency: ['EUR' as PaymentCurrency, [Validators.required]],
    description: ['', [Validators.required, Validators.maxLength(280), notBlank]],
  });
  private sent = false;

  constructor() {
    // When the parent reports the creation done (busy goes back to false without an error), clear the form.
    effect(() => {
      const busy = this.busy();
      const error = this.error();
      untracked(() => {
        if (!busy && this.sent) {
          this.sent = false;
          if (!error) {
            this.confirmation.set('Payment created.');
            this.form.reset({ amount: '', currency: this.form.controls.currency.value, description: '' });
            this.submitted.set(false);
            this.amountInput().nativeElement.focus();
          }
        }
      });
    });
  }

  protected invalid(name: 'amount' | 'description'): boolean {
    const control = this.form.controls[name];
    // Not while someone is merely tabbing through an empty form: after typing, or after a submit attempt.
    return control.invalid && ((control.touched && control.dirty) || this.submitted());
  }

  protected submit(): void {
    this.submitted.set(true);
    this.confirmation.set('');
    if (this.form.invalid) {
      document.getElementById(this.form.controls.amount.invalid ? 'amount' : 'description')?.focus();
      return;
    }
    const { amount, currency, description } = this.form.getRawValue();
    this.sent = true;
    this.create.emit({ amount: amount.trim(), currency, description: description.trim() });
  }
}

function positive(control: { value: string }) {
  return AMOUNT_PATTERN.test(control.value) && !/^[0.]+$/.test(control.value) ? null : { positive: true };
}

function notBlank(control: { value: string }) {
  return control.value.trim().length > 0 ? null : { blank: true };
}
