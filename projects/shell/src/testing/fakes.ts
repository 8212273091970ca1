import { signal } from '@angular/core';
import type { Payment, User } from '@payments-system/protocol';
import type { AuthEnvironment } from '../app/core/auth.service';

export const ALICE: User = { userId: 'alice', email: 'alice@demo.test', name: 'Alice Customer', role: 'CUSTOMER' };
export const ADA: User = { userId: 'admin_1', email: 'admin@demo.test', name: 'Ada Admin', role: 'ADMIN' };

export function payment(overrides: Partial<Payment> = {}): Payment {
  return {
    paymentId: 'pay_1',
    ownerId: 'alice',
    amount: '12.50',
    currency: 'EUR',
    description: 'Coffee beans',
    status: 'pending',
    createdAt: '2026-01-01T10:00:00.000Z',
    updatedAt: '2026-01-01T10:00:00.000Z',
    ...overrides,
  };
}

/** An unsigned JWT whose `exp` is `expSeconds` (AuthService reads exp only). */
export function fakeJwt(expSeconds: number, sub = 'alice'): string {
  const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, exp: expSeconds })}.sig`;
}

/** In-memory Storage, a settable clock, and a storage-event trigger. */
export function fakeAuthEnvironment(start = Date.parse('2026-01-01T10:00:00Z')) {
  const data = new Map<string, string>();
  const storage: Storage = {
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    getItem: (k) => data.get(k) ?? null,
    key: (i) => [...data.keys()][i] ?? null,
    removeItem: (k) => void data.delete(k),
    setItem: (k, v) => void data.set(k, String(v)),
  };
  const listeners = new Set<(e: StorageEvent) => void>();
  const clock = signal(start);
  const env: AuthEnvironment = {
    storage,
    now: () => clock(),
    withLock: (_name, task) => task(),
    onStorage: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    env,
    storage,
    clock,
    /** Another tab wrote `value` (null = removed) under `key`. */
    otherTab(key: string, value: string | null) {
      if (value === null) data.delete(key);
      else data.set(key, value);
      for (const l of listeners) l(new StorageEvent('storage', { key, newValue: value }));
    },
  };
}
