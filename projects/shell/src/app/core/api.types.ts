import type { PaymentCurrency } from '@payments-system/protocol';

/**
 * Body of `POST /api/payments`. The app's other domain types (`User`, `TokenResponse`, `DemoAccount`, `Payment`,
 * `Role`) come from the protocol package, which the gateway's routes use too.
 */
export interface NewPayment {
  readonly amount: string;
  readonly currency: PaymentCurrency;
  readonly description: string;
}
