import { PAYMENT_CURRENCIES, type PaymentCurrency } from '@payments-system/protocol';

export type Role = 'ADMIN' | 'CUSTOMER' | 'VENDOR';

export interface User {
  readonly userId: string;
  readonly email: string;
  readonly name: string;
  readonly role: Role;
}

/** Body of `POST /api/auth/login` and `POST /api/auth/refresh`. */
export interface TokenResponse {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresIn: number;
  readonly user: User;
}

export interface DemoAccount {
  readonly email: string;
  readonly password: string;
  readonly name: string;
  readonly role: Role;
}

/** The payment resource and its rules come from the protocol package, shared with the gateway. */
export type { Payment } from '@payments-system/protocol';
export const CURRENCIES = PAYMENT_CURRENCIES;
export type Currency = PaymentCurrency;

export interface NewPayment {
  readonly amount: string;
  readonly currency: Currency;
  readonly description: string;
}
