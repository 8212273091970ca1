import type { PaymentStatus } from '@payments-system/protocol';

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

/** A payment as the gateway's HTTP API returns it. Amounts are decimal strings, never floats. */
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

export const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF'] as const;
export type Currency = (typeof CURRENCIES)[number];

export interface NewPayment {
  readonly amount: string;
  readonly currency: Currency;
  readonly description: string;
}
