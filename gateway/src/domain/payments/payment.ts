/** A payment and the state machine its status follows. */
import type { PaymentStatus } from '@payments-system/protocol';

export interface Payment {
  readonly paymentId: string;
  readonly ownerId: string;
  /** Decimal string in major units: exact, never a float. */
  readonly amount: string;
  readonly currency: string;
  readonly description: string;
  readonly status: PaymentStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** pending → processing → completed | failed; completed → refunded. */
export const TRANSITIONS: { readonly [S in PaymentStatus]: readonly PaymentStatus[] } = {
  pending: ['processing'],
  processing: ['completed', 'failed'],
  completed: ['refunded'],
  failed: [],
  refunded: [],
};

export const TERMINAL_STATUSES: ReadonlySet<PaymentStatus> = new Set(['completed', 'failed', 'refunded']);

export function canTransition(from: PaymentStatus, to: PaymentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}
