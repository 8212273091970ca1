import { Component, inject } from '@angular/core';
import { Store } from '@ngrx/store';
import { realtimePaymentsFeature } from '@payments-system/realtime/store';

@Component({
  selector: 'app-payments-list',
  template: `
    @if (reloadError(); as error) { <p role="alert">Could not reload the payments: {{ error }}</p> }
    @if (reloading()) { <p>Reloading…</p> }
    <ul>
      @for (payment of payments(); track payment.paymentId) {
        <li>{{ payment.paymentId }}: {{ payment.status }} ({{ payment.amount }} {{ payment.currency }})</li>
      }
    </ul>
  `,
})
export class PaymentsListComponent {
  private readonly store = inject(Store);
  // Emptied when the session ends (sign-out, another user): no payments of the previous user remain.
  protected readonly payments = this.store.selectSignal(realtimePaymentsFeature.selectAll);
  protected readonly reloading = this.store.selectSignal(realtimePaymentsFeature.selectReloading);
  protected readonly reloadError = this.store.selectSignal(realtimePaymentsFeature.selectReloadError);
}
