/**
 * The payments contract the gateway's HTTP API and the app share: the resource, its state
 * machine, and what a new payment may contain. The gateway stays the authority (409 for an
 * illegal transition); clients use the same table to offer only legal next states.
 */
import type { PaymentStatus } from './messages.js';

/** A payment as `GET/POST/PATCH /api/payments` return it. Amounts are decimal strings, never floats. */
export interface Payment {
  readonly paymentId: string;
  readonly ownerId: string;
  readonly amount: string;
  readonly currency: string;
  readonly description: string;
  readonly status: PaymentStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** pending → processing → completed | failed; completed → refunded. */
export const PAYMENT_TRANSITIONS: { readonly [S in PaymentStatus]: readonly PaymentStatus[] } = {
  pending: ['processing'],
  processing: ['completed', 'failed'],
  completed: ['refunded'],
  failed: [],
  refunded: [],
};

export const TERMINAL_PAYMENT_STATUSES: ReadonlySet<PaymentStatus> = new Set<PaymentStatus>(['completed', 'failed', 'refunded']);

export function canTransitionPayment(from: PaymentStatus, to: PaymentStatus): boolean {
  return PAYMENT_TRANSITIONS[from].includes(to);
}

/** Currencies a new payment may use. */
export const PAYMENT_CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF'] as const;
export type PaymentCurrency = (typeof PAYMENT_CURRENCIES)[number];

/** A new payment's amount: a positive decimal string with at most two decimals ("12.50"). */
export const NEW_PAYMENT_AMOUNT_PATTERN = /^\d{1,9}(\.\d{1,2})?$/;
