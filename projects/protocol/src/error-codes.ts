/**
 * Error codes shared by `error` messages on the socket and JSON error bodies of the HTTP API
 * (`{"error": {"code", "message"}}`).
 */
export const ERROR_CODES = [
  /** Malformed JSON, a non-object, an unknown type or a wrong shape. The socket stays open. */
  'BAD_REQUEST',
  /** Missing, malformed, forged or expired credentials (HTTP 401). */
  'UNAUTHORIZED',
  /** Authenticated, but not allowed: a room of someone else, a role without the right (HTTP 403). */
  'FORBIDDEN',
  /** No such route or resource (HTTP 404). */
  'NOT_FOUND',
  /** The route exists, but not for this HTTP method (HTTP 405). */
  'METHOD_NOT_ALLOWED',
  /** The request conflicts with the resource's state (HTTP 409). */
  'CONFLICT',
  /** The request did not arrive in time: headers or body too slow (HTTP 408). */
  'REQUEST_TIMEOUT',
  /** The body is larger than the server accepts (HTTP 413). */
  'PAYLOAD_TOO_LARGE',
  /** The request's headers are larger than the server accepts (HTTP 431). */
  'HEADERS_TOO_LARGE',
  /** Too many requests, logins, resumes or open sockets; retry after the time given (HTTP 429, `Retry-After`). */
  'RATE_LIMITED',
  /** A dependency is down; retry later (HTTP 503). */
  'SERVICE_UNAVAILABLE',
  /** An unexpected server error (HTTP 500). */
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
