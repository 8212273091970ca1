/**
 * How many logins one account and one client address may try: each attempt spends a unit of the
 * address's quota and of the account's before the password is checked (a check is a scrypt, so a
 * refused attempt costs the gateway nothing), and a successful login gives the account its quota
 * back. Past either quota the answer is 429 with Retry-After until the window ends.
 *
 * Both quotas count attempts, not only failures, so concurrent guesses cannot all pass a check
 * before any failure is recorded. Every email counts, registered or not: a 429 says nothing about
 * whether an account exists. The account's quota is the one an attacker can spend for a victim
 * (a lockout for the rest of the window); the address quota is higher and stops one client from
 * spending many accounts' quotas or the gateway's CPU.
 */
import { createHash } from 'node:crypto';
import type { NativeRedisClient } from '../../redis/connection.ts';
import { addressKey } from '../limits/client-address.ts';
import { Quota } from '../limits/quota.ts';

export interface LoginThrottleOptions {
  readonly maxAttemptsPerAccount: number;
  readonly maxAttemptsPerAddress: number;
  readonly windowSeconds: number;
}

export interface LoginRefusal {
  /** Which quota refused: the account's or the client address's. */
  readonly scope: 'account' | 'address';
  readonly retryAfterSeconds: number;
}

export class LoginThrottle {
  private readonly accounts: Quota;
  private readonly addresses: Quota;

  constructor(options: LoginThrottleOptions, redis?: NativeRedisClient) {
    this.accounts = new Quota({ name: 'login-account', points: options.maxAttemptsPerAccount, windowSeconds: options.windowSeconds }, redis);
    this.addresses = new Quota({ name: 'login-address', points: options.maxAttemptsPerAddress, windowSeconds: options.windowSeconds }, redis);
  }

  /** Spends an attempt of the address and of the account; a refusal when either has none left. */
  async admit(email: string, address: string): Promise<LoginRefusal | undefined> {
    const byAddress = await this.addresses.take(addressKey(address));
    if (!byAddress.ok) return { scope: 'address', retryAfterSeconds: byAddress.retryAfterSeconds };
    const byAccount = await this.accounts.take(accountKey(email));
    if (!byAccount.ok) return { scope: 'account', retryAfterSeconds: byAccount.retryAfterSeconds };
    return undefined;
  }

  /** The account logged in: its run of attempts ends. */
  async succeeded(email: string): Promise<void> {
    await this.accounts.reset(accountKey(email));
  }
}

/** Emails are kept hashed: the store (Redis) holds counters, not a list of who tried to log in. */
function accountKey(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('base64url');
}
