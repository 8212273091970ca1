/**
 * WebSocket close codes the gateway uses (and the one a client sends besides 1000), and what a client should do after
 * each. 1000–1011 are RFC 6455 codes; 4000–4999 are reserved for applications.
 */
export const CloseCode = {
  /** The client asked to close, or the server closed a finished session. */
  Normal: 1000,
  /** The gateway is shutting down or restarting: reconnect with backoff. */
  GoingAway: 1001,
  /** The client sent messages faster than its rate limit allows. */
  PolicyViolation: 1008,
  /** A frame was larger than the gateway's maximum payload. */
  MessageTooBig: 1009,
  /** The gateway hit an unexpected error. */
  InternalError: 1011,
  /** The access token expired while connected: refresh it, then reconnect. */
  TokenExpired: 4001,
  /** The user's session ended (logout elsewhere): do not reconnect with this token. */
  SessionRevoked: 4003,
  /** The client read too slowly and its unsent backlog passed the gateway's bound. */
  SlowConsumer: 4008,
  /**
   * Sent by a client, never by the gateway: the tab that owned the socket hands the connection over to another tab
   * of its browser, whose socket follows at once. The gateway keeps the user's presence for a grace period.
   */
  HandOver: 4010,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** What a client does after a close: retry with backoff, refresh the token first, or stop. */
export type CloseAdvice = 'reconnect' | 'refresh-token' | 'stop';

export interface CloseCodeInfo {
  readonly reason: string;
  readonly advice: CloseAdvice;
}

export const CLOSE_CODE_INFO: { readonly [C in CloseCode]: CloseCodeInfo } = {
  [CloseCode.Normal]: { reason: 'normal closure', advice: 'stop' },
  [CloseCode.GoingAway]: { reason: 'server shutting down', advice: 'reconnect' },
  [CloseCode.PolicyViolation]: { reason: 'rate limit exceeded', advice: 'reconnect' },
  [CloseCode.MessageTooBig]: { reason: 'message too big', advice: 'reconnect' },
  [CloseCode.InternalError]: { reason: 'internal error', advice: 'reconnect' },
  [CloseCode.TokenExpired]: { reason: 'token expired', advice: 'refresh-token' },
  [CloseCode.SessionRevoked]: { reason: 'session revoked', advice: 'stop' },
  [CloseCode.SlowConsumer]: { reason: 'slow consumer', advice: 'reconnect' },
  [CloseCode.HandOver]: { reason: 'handed over to another tab', advice: 'reconnect' },
};

/** Advice for any close code, including ones this version does not know (1006 and the like). */
export function closeAdvice(code: number): CloseAdvice {
  return (CLOSE_CODE_INFO as Record<number, CloseCodeInfo | undefined>)[code]?.advice ?? 'reconnect';
}
