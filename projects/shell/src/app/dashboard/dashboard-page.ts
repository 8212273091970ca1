import { afterNextRender, Component, computed, ElementRef, inject, signal, viewChild } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { Actions, ofType } from '@ngrx/effects';
import { Store } from '@ngrx/store';
import { PAYMENT_STATUSES, type PaymentStatus } from '@payments-system/protocol';
import { RealtimePaymentsActions } from '@payments-system/realtime/store';
import type { NewPayment } from '../core/api.types';
import { AuthService } from '../core/auth.service';
import { STATUS_LABELS } from '../core/payment-rules';
import { PaymentsPageActions } from '../state/payments.actions';
import { paymentsFeature } from '../state/payments.feature';
import { BroadcastForm } from './broadcast-form';
import { CreatePaymentForm } from './create-payment-form';
import { PaymentTable } from './payment-table';

/** The dashboard: loaded over HTTP once, then kept current by the live events in the store. */
@Component({
  selector: 'app-dashboard-page',
  imports: [PaymentTable, CreatePaymentForm, BroadcastForm],
  template: `
    <div class="page-head">
      <h1 #heading tabindex="-1">{{ isAdmin() ? 'All payments' : 'Your payments' }}</h1>
      <p class="muted">{{ isAdmin() ? 'Every payment, live. Move them along or tell everyone something.' : 'Updates appear here as they happen, no reload needed.' }}</p>
    </div>

    <ul class="summary" aria-label="Payments by status">
      @for (status of statuses; track status) {
        <li class="summary__item" [attr.data-status]="status">
          <span class="summary__count">{{ counts()[status] }}</span>
          <span class="summary__label">{{ labels[status] }}</span>
        </li>
      }
    </ul>

    @if (isCustomer()) {
      <section class="card">
        <app-create-payment-form [busy]="creating()" [error]="createError()" (create)="create($event)" />
      </section>
    }
    @if (isAdmin()) {
      <section class="card">
        <app-broadcast-form />
      </section>
    }

    <section class="card card--flush" aria-labelledby="list-title">
      <div class="card__head">
        <h2 id="list-title">{{ isAdmin() ? 'Payments' : 'History' }} <span class="count">{{ rows().length }}</span></h2>
        @if (loading()) { <span class="muted" role="status">Loading…</span> }
      </div>
      @if (loadError(); as error) {
        <div class="form-error form-error--inset" role="alert">
          {{ error }} <button type="button" class="btn btn--small" (click)="reload()">Try again</button>
        </div>
      }
      @if (rows().length > 0) {
        <app-payment-table [rows]="rows()" [canChangeStatus]="isAdmin()" [showOwner]="isAdmin()" [pending]="pending()"
                           [caption]="isAdmin() ? 'All payments, newest first' : 'Your payments, newest first'"
                           (statusChange)="changeStatus($event)" />
      } @else if (!loading() && !loadError()) {
        <p class="empty">
          {{ isCustomer() ? 'No payments yet. Create one above and watch it move through its states.' : 'No payments yet. They appear here as soon as they are created.' }}
        </p>
      }
    </section>
    <p class="visually-hidden" role="status" aria-live="polite">{{ announcement() }}</p>
  `,
})
export class DashboardPage {
  private readonly store = inject(Store);
  private readonly auth = inject(AuthService);
  private readonly heading = viewChild.required<ElementRef<HTMLElement>>('heading');

  protected readonly statuses = PAYMENT_STATUSES;
  protected readonly labels = STATUS_LABELS;
  protected readonly rows = this.store.selectSignal(paymentsFeature.selectAll);
  protected readonly counts = this.store.selectSignal(paymentsFeature.selectCounts);
  protected readonly loading = this.store.selectSignal(paymentsFeature.selectLoading);
  protected readonly loadError = this.store.selectSignal(paymentsFeature.selectLoadError);
  protected readonly creating = this.store.selectSignal(paymentsFeature.selectCreating);
  protected readonly createError = this.store.selectSignal(paymentsFeature.selectCreateError);
  protected readonly pending = this.store.selectSignal(paymentsFeature.selectPendingStatus);
  protected readonly isAdmin = computed(() => this.auth.user()?.role === 'ADMIN');
  protected readonly isCustomer = computed(() => this.auth.user()?.role === 'CUSTOMER');
  /** One sentence per live change, for screen readers. */
  protected readonly announcement = signal('');

  constructor() {
    this.store.dispatch(PaymentsPageActions.opened());
    inject(Actions)
      .pipe(ofType(RealtimePaymentsActions.paymentUpdated), takeUntilDestroyed())
      .subscribe(({ payment }) => {
        const what = payment.description ? `“${payment.description}”` : payment.paymentId;
        this.announcement.set(`Payment ${what} is now ${STATUS_LABELS[payment.status].toLowerCase()}.`);
      });
    afterNextRender(() => this.heading().nativeElement.focus());
  }

  protected create(payment: NewPayment): void {
    this.store.dispatch(PaymentsPageActions.createSubmitted({ payment }));
  }

  protected changeStatus(change: { paymentId: string; status: PaymentStatus }): void {
    this.store.dispatch(PaymentsPageActions.statusChangeSubmitted(change));
  }

  protected reload(): void {
    this.store.dispatch(PaymentsPageActions.opened());
  }
}
