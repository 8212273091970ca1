/** The demo's users: one of each kind the product has. */
import type { TokenSubject } from '../auth/tokens.ts';

export const DEMO_USERS: readonly TokenSubject[] = [
  { userId: 'admin_1', email: 'admin@demo.test', role: 'ADMIN' },
  { userId: 'alice', email: 'alice@demo.test', role: 'CUSTOMER' },
  { userId: 'bob', email: 'bob@demo.test', role: 'CUSTOMER' },
  { userId: 'vendor_1', email: 'vendor@demo.test', role: 'VENDOR' },
];
