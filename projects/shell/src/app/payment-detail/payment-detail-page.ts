import { Component, computed, inject, input } from '@angular/core';
import { toObservable, toSignal } from '@angular/core/rxjs-interop';
import { RouterLink } from '@angular/router';
import { Store } from '@ngrx/store';
import { paymentRoom } from '@payments-system/protocol';
import { RealtimeService } from '@payments-system/realtime';
import { catchError, EMPTY, switchMap } from 'rxjs';
import { formatAmount, STATUS_LABELS } from '../core/payment-rules';
import { PaymentViewers } from '../presence/payment-viewers';
import { PaymentsPageActions } from '../state/payments.actions';
import { paymentsFeature } from '../state/payments.feature';

/**
 * One payment, live, and who else has it open. Being on this page puts the tab in the payment's room, which is what
 * makes it visible to the others.
 */
@Component({
  selector: 'app-payment-detail-page',
  imports: [RouterLink, PaymentViewers],
  template: `
    <p><a routerLink="/">← All payments</a></p>
    @if (payment(); as p) {
      <section class="card detail" aria-labelledby="detail-title">
        <h1 id="detail-title">{{ p.description }}</h1>
        <dl class="detail__facts">
          <dt>Payment</dt> <dd class="payment__id">{{ p.paymentId }}</dd>
          <dt>Amount</dt> <dd>{{ amount() }}</dd>
          <dt>Status</dt> <dd><span class="badge" [attr.data-status]="p.status">{{ labels[p.status] }}</span></dd>
          <dt>Customer</dt> <dd>{{ p.ownerId }}</dd>
        </dl>
        <app-payment-viewers [paymentId]="p.paymentId" />
      </section>
    } @else if (loading()) {
      <p class="muted" role="status">Loading…</p>
    } @else {
      <p class="empty">No such payment, or not yours to see.</p>
    }
  `,
})
export class PaymentDetailPage {
  /** From the route (`/payments/:paymentId`). */
  readonly paymentId = input.required<string>();
  private readonly store = inject(Store);
  private readonly realtime = inject(RealtimeService);
  protected readonly labels = STATUS_LABELS;
  private readonly rows = this.store.selectSignal(paymentsFeature.selectEntities);
  protected readonly loading = this.store.selectSignal(paymentsFeature.selectLoading);
  protected readonly payment = computed(() => this.rows()[this.paymentId()]);
  protected readonly amount = computed(() => {
    const p = this.payment();
    return p ? formatAmount(p.amount, p.currency) : '';
  });

  constructor() {
    this.store.dispatch(PaymentsPageActions.opened()); // the list, live from then on (this page may be the first)
    // In the payment's room while the page is open: that is what "looking at it" is. Its events reach the store
    // like every other; a room the gateway refuses (not hers) leaves the page showing nothing.
    toSignal(toObservable(this.paymentId).pipe(switchMap((id) => this.realtime.room(paymentRoom(id)).pipe(catchError(() => EMPTY)))));
  }
}
