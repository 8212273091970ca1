/**
 * The contract of the auth HTTP API (`/api/auth/*`): what the gateway's routes return and the app reads.
 */
import type { Role } from './rooms.js';

/** A user as the auth API returns it (never with credentials). */
export interface User {
  readonly userId: string;
  readonly email: string;
  readonly name: string;
  readonly role: Role;
}

/** Body of a successful `POST /api/auth/login` and `POST /api/auth/refresh`. */
export interface TokenResponse {
  /** A short-lived JWT for the API and the socket. */
  readonly accessToken: string;
  /** Opaque, single use: `/refresh` rotates it. */
  readonly refreshToken: string;
  /** Lifetime of the access token, in seconds. */
  readonly expiresIn: number;
  readonly user: User;
}

/** One entry of `GET /api/auth/demo-accounts` (demo mode only). */
export interface DemoAccount {
  readonly email: string;
  readonly password: string;
  readonly name: string;
  readonly role: Role;
}
