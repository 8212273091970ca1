import { DatePipe } from '@angular/common';
import { Component, computed, input, output } from '@angular/core';
import type { PaymentStatus } from '@payments-system/protocol';
import { RouterLink } from '@angular/router';
import { formatAmount, nextStatuses, STATUS_LABELS } from '../core/payment-rules';
import { OnlineStatus } from '../presence/online-status';
import type { PaymentRow } from '../state/payments.feature';

const ACTION_LABELS: { readonly [S in PaymentStatus]: string } = {
  pending: 'Reopen',
  processing: 'Start processing',
  completed: 'Complete',
  failed: 'Fail',
  refunded: 'Refund',
};

/**
 * The payments, newest first. Rows that just changed are highlighted; admins get the legal next statuses as buttons,
 * whether each customer is online, and a link to each payment's page (which shows who else has it open).
 */
@Component({
  selector: 'app-payment-table',
  imports: [DatePipe, RouterLink, OnlineStatus],
  template: `
    <div class="table-wrap">
      <table class="payments">
        <caption class="visually-hidden">{{ caption() }}</caption>
        <thead>
          <tr>
            <th scope="col">Payment</th>
            <th scope="col" class="num">Amount</th>
            <th scope="col">Status</th>
            @if (showOwner()) { <th scope="col">Customer</th> }
            <th scope="col">Updated</th>
            @if (canChangeStatus()) { <th scope="col"><span class="visually-hidden">Actions</span></th> }
          </tr>
        </thead>
        <tbody>
          @for (row of rows(); track row.paymentId) {
            <tr [class.row--changed]="row.changeId !== null" [attr.data-payment-id]="row.paymentId" [attr.data-status]="row.status">
              <th scope="row" data-label="Payment">
                @if (showOwner()) {
                  <a class="payment__desc" [routerLink]="['/payments', row.paymentId]">{{ row.description }}</a>
                } @else {
                  <span class="payment__desc">{{ row.description }}</span>
                }
                <span class="payment__id">{{ row.paymentId }}</span>
              </th>
              <td class="num" data-label="Amount">{{ amount(row) }}</td>
              <td data-label="Status">
                <span class="badge" [attr.data-status]="row.status">{{ labels[row.status] }}</span>
                @if (row.changeId !== null) {
                  <span class="change-note">
                    @if (row.previousStatus; as before) { was {{ labels[before] }} } @else { new }
                  </span>
                }
              </td>
              @if (showOwner()) {
                <td data-label="Customer" class="customer">{{ row.ownerId }} <app-online-status [userId]="row.ownerId" /></td>
              }
              <td data-label="Updated"><time [attr.datetime]="row.updatedAt">{{ row.updatedAt | date: 'HH:mm:ss' }}</time></td>
              @if (canChangeStatus()) {
                <td data-label="Actions" class="actions">
                  @let next = nextOf(row.status);
                  @if (pending()[row.paymentId]; as target) {
                    <span class="muted" role="status">Moving to {{ labels[target] }}…</span>
                  } @else if (next.length > 0) {
                    <div role="group" class="actions__group" [attr.aria-label]="'Change status of ' + row.description">
                      @for (status of next; track status) {
                        <button type="button" class="btn btn--small" [attr.data-action]="status"
                                [class.btn--danger]="status === 'failed'"
                                (click)="statusChange.emit({ paymentId: row.paymentId, status })"
                                [attr.aria-label]="actionLabels[status] + ': ' + row.description">
                          {{ actionLabels[status] }}
                        </button>
                      }
                    </div>
                  } @else {
                    <span class="muted">Final</span>
                  }
                </td>
              }
            </tr>
          }
        </tbody>
      </table>
    </div>
  `,
})
export class PaymentTable {
  readonly rows = input.required<readonly PaymentRow[]>();
  readonly canChangeStatus = input(false);
  readonly showOwner = input(false);
  readonly pending = input<Readonly<Record<string, PaymentStatus>>>({});
  readonly caption = input('Payments');
  readonly statusChange = output<{ paymentId: string; status: PaymentStatus }>();

  protected readonly labels = STATUS_LABELS;
  protected readonly actionLabels = ACTION_LABELS;
  protected readonly count = computed(() => this.rows().length);

  protected nextOf(status: PaymentStatus): readonly PaymentStatus[] {
    return nextStatuses(status);
  }

  protected amount(row: PaymentRow): string {
    return formatAmount(row.amount, row.currency);
  }
}
