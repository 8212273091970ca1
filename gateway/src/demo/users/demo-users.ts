/** The demo's users: one of each kind the product has. Passwords are public on purpose. */
import type { NewUser } from './user-store.ts';

export const DEMO_USERS: readonly NewUser[] = [
  { userId: 'admin_1', email: 'admin@demo.test', name: 'Ada Admin', role: 'ADMIN', password: 'admin-demo' },
  { userId: 'alice', email: 'alice@demo.test', name: 'Alice Customer', role: 'CUSTOMER', password: 'alice-demo' },
  { userId: 'bob', email: 'bob@demo.test', name: 'Bob Customer', role: 'CUSTOMER', password: 'bob-demo' },
  { userId: 'vendor_1', email: 'vendor@demo.test', name: 'Vera Vendor', role: 'VENDOR', password: 'vendor-demo' },
];
