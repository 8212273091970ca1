import { NEW_PAYMENT_AMOUNT_PATTERN, PAYMENT_TRANSITIONS, type PaymentStatus } from '@payments-system/protocol';

/**
 * The legal next statuses, from the protocol's state machine (the table the gateway enforces), so that admins
 * are only offered legal moves. The gateway stays the authority: an illegal request still gets a 409.
 */
export function nextStatuses(status: PaymentStatus): readonly PaymentStatus[] {
  return PAYMENT_TRANSITIONS[status];
}

export const STATUS_LABELS: { readonly [S in PaymentStatus]: string } = {
  pending: 'Pending',
  processing: 'Processing',
  completed: 'Completed',
  failed: 'Failed',
  refunded: 'Refunded',
};

/** `"12.5"`/`"12.50"` + `"EUR"` → `"€12.50"`, formatted from the decimal string (no float arithmetic on the amount). */
export function formatAmount(amount: string, currency: string, locale = 'en-GB'): string {
  const [whole = '0', fraction = ''] = amount.split('.');
  const digits = `${whole}.${fraction.padEnd(2, '0')}`;
  try {
    // Intl accepts a decimal string exactly (no rounding through a double for up to 15 digits).
    return new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: 2 }).format(
      digits as unknown as number,
    );
  } catch {
    return `${digits} ${currency}`;
  }
}

/** Validates an amount typed by a person: a decimal with at most two decimals (the gateway's rule). */
export const AMOUNT_PATTERN = NEW_PAYMENT_AMOUNT_PATTERN;
