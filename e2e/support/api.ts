/** The gateway's HTTP API, used by tests to arrange data and to act as another party. */
export interface Session {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly user: { readonly userId: string; readonly role: string };
}
export interface Payment {
  readonly paymentId: string;
  readonly status: string;
  readonly ownerId: string;
}

async function call<T>(base: string, path: string, init: RequestInit & { token?: string } = {}): Promise<T> {
  const response = await fetch(new URL(path, base), {
    ...init,
    headers: {
      'content-type': 'application/json',
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path} → ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export function login(base: string, email: string, password: string): Promise<Session> {
  return call(base, '/api/auth/login', { method: 'POST', body: JSON.stringify({ email, password }) });
}

export function createPayment(base: string, token: string, description: string, amount = '12.50'): Promise<Payment> {
  return call(base, '/api/payments', {
    method: 'POST',
    token,
    body: JSON.stringify({ amount, currency: 'EUR', description }),
  });
}

export function changeStatus(base: string, token: string, paymentId: string, status: string): Promise<Payment> {
  return call(base, `/api/payments/${paymentId}`, { method: 'PATCH', token, body: JSON.stringify({ status }) });
}

export const ALICE = { email: 'alice@demo.test', password: 'alice-demo' };
export const BOB = { email: 'bob@demo.test', password: 'bob-demo' };
export const ADMIN = { email: 'admin@demo.test', password: 'admin-demo' };
