/**
 * Users and their password hashes (scrypt, from node:crypto). Verification takes the same time
 * whether or not the email exists, so login answers do not reveal who has an account.
 */
import { randomBytes, scrypt, timingSafeEqual, type BinaryLike } from 'node:crypto';
import type { User } from '@payments-system/protocol';

export type { User };

const KEY_LENGTH = 32;

interface StoredUser extends User {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

export interface NewUser extends User {
  readonly password: string;
}

function derive(password: BinaryLike, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export class UserStore {
  private readonly byEmail = new Map<string, StoredUser>();
  private readonly byId = new Map<string, StoredUser>();
  private readonly decoy = { salt: randomBytes(16), hash: randomBytes(KEY_LENGTH) };

  async add(user: NewUser): Promise<User> {
    const salt = randomBytes(16);
    const { password, ...profile } = user;
    const stored: StoredUser = { ...profile, email: profile.email.toLowerCase(), salt, hash: await derive(password, salt) };
    this.byEmail.set(stored.email, stored);
    this.byId.set(stored.userId, stored);
    return toUser(stored);
  }

  get(userId: string): User | undefined {
    const user = this.byId.get(userId);
    return user && toUser(user);
  }

  /** The user when the password matches; `undefined` for a wrong email or password alike. */
  async authenticate(email: string, password: string): Promise<User | undefined> {
    const user = this.byEmail.get(email.toLowerCase());
    const { salt, hash } = user ?? this.decoy;
    const matches = timingSafeEqual(await derive(password, salt), hash);
    return user && matches ? toUser(user) : undefined;
  }
}

function toUser({ userId, email, name, role }: StoredUser): User {
  return { userId, email, name, role };
}
