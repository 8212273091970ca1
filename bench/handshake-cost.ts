// Per-handshake costs in isolation: `node --import tsx bench/handshake-cost.ts`.
// How the secret reaches jsonwebtoken (a string is turned into a KeyObject on every verify).
import jwt from 'jsonwebtoken';
import { createSecretKey } from 'node:crypto';
import { TokenVerifier, signAccessToken } from '../gateway/src/auth/tokens.ts';
const secret = 'a'.repeat(64);
const token = signAccessToken(secret, { userId: 'u1', email: 'u1@x.test', role: 'CUSTOMER' }, { expiresInSeconds: 3600 });
const key = createSecretKey(Buffer.from(secret));
const v = new TokenVerifier(secret);
function time(name: string, n: number, f: () => unknown) {
  for (let i = 0; i < 200; i++) f();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  console.log(name, (Number(process.hrtime.bigint() - t) / n / 1000).toFixed(1), 'µs');
}
time('jwt.verify(string secret)', 2000, () => jwt.verify(token, secret, { algorithms: ['HS256'] }));
time('jwt.verify(KeyObject)', 5000, () => jwt.verify(token, key, { algorithms: ['HS256'] }));
time('TokenVerifier.verify (KeyObject + zod)', 5000, () => v.verify(token));
time('new URL(request.url)', 20000, () => new URL('/ws', 'http://gateway.invalid'));
