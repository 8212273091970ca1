import { CLOSE_CODE_INFO, CloseCode } from '@payments-system/protocol';
import { fakeJwt } from '../../spec-helpers/server-messages';
import { DEFAULT_RECONNECT } from '../config';
import { baseBackoffDelay } from './backoff';
import {
  decideAfterEnding,
  decideAfterError,
  decideAfterRefreshError,
  decideAfterRefreshRefused,
  shouldCheckHandshake,
  describeEnding,
  type ConnectionEnding,
  type RetryContext,
  type RetryDecision,
} from './retry-policy';

const NOW = Date.parse('2026-12-11T10:00:00Z');
const VALID = fakeJwt(NOW / 1000 + 600);
const EXPIRED = fakeJwt(NOW / 1000 - 60);

const context = (overrides: Partial<RetryContext> = {}): RetryContext => ({
  failures: 0,
  refreshedSinceOpen: false,
  canRefresh: true,
  reconnect: { ...DEFAULT_RECONNECT, jitter: 'none' },
  random: () => 0.5,
  now: NOW,
  ...overrides,
});
const closed = (code: number, reason = '', token = VALID): ConnectionEnding => ({ opened: true, code, reason, token });
const failed = (token = VALID): ConnectionEnding => ({ opened: false, code: 1006, reason: '', token });
const action = (d: RetryDecision) => d.action;

describe('retry policy (pure)', () => {
  it('follows the README close-code table', () => {
    const expected: Array<[number, RetryDecision['action'], string]> = [
      [1000, 'stop', 'closed-by-server'],
      [1001, 'wait', 'closed-by-server'],
      [1005, 'wait', 'network'],
      [1006, 'wait', 'network'],
      [1008, 'wait', 'closed-by-server'],
      [1009, 'wait', 'closed-by-server'],
      [1011, 'wait', 'closed-by-server'],
      [4001, 'refresh-token', ''],
      [4003, 'stop', 'auth'],
      [4008, 'wait', 'closed-by-server'],
      [4010, 'wait', 'closed-by-server'], // a client's code: a gateway never sends it
      [4999, 'wait', 'closed-by-server'],
    ];
    for (const [code, act, kind] of expected) {
      const decision = decideAfterEnding(closed(code), context());
      expect(action(decision)).withContext(String(code)).toBe(act);
      if (decision.action !== 'refresh-token') expect(decision.error.kind).withContext(String(code)).toBe(kind);
    }
    // Every code the protocol lists has a row above: a new close code makes this fail until the table says what to do.
    const listed = Object.keys(CLOSE_CODE_INFO).map(Number);
    expect(listed.every((code) => expected.some(([c]) => c === code))).toBeTrue();
  });

  it('waits the backoff table, one attempt more each time, then gives up with retryWhenOnline', () => {
    const max = DEFAULT_RECONNECT.maxAttempts;
    for (let failures = 0; failures < max; failures++) {
      const decision = decideAfterEnding(failed(), context({ failures }));
      expect(decision).toEqual({
        action: 'wait',
        attempt: failures + 1,
        delayMs: baseBackoffDelay(failures + 1, DEFAULT_RECONNECT.delaysMs),
        error: { kind: 'network', message: 'connection failed (1006)', closeCode: 1006, at: NOW },
      });
    }
    const last = decideAfterEnding(failed(), context({ failures: max }));
    expect(last).toEqual({
      action: 'stop',
      retryWhenOnline: true,
      error: { kind: 'network', message: `gave up after ${max} attempts: connection failed (1006)`, closeCode: 1006, at: NOW },
    });
  });

  it('keeps every delay inside the jitter bounds for any random value', () => {
    for (const jitter of ['equal', 'full', 'none'] as const) {
      for (const r of [0, 0.25, 0.5, 0.999999]) {
        for (let failures = 0; failures < 10; failures++) {
          const decision = decideAfterEnding(closed(1001), context({ failures, random: () => r, reconnect: { ...DEFAULT_RECONNECT, jitter } }));
          if (decision.action !== 'wait') return fail(`expected wait, got ${decision.action}`);
          const base = baseBackoffDelay(failures + 1, DEFAULT_RECONNECT.delaysMs);
          const low = jitter === 'none' ? base : jitter === 'equal' ? base / 2 : 0;
          expect(decision.delayMs).toBeGreaterThanOrEqual(low);
          expect(decision.delayMs).toBeLessThanOrEqual(base);
        }
      }
    }
  });

  it('never retries with reconnect: false', () => {
    const decision = decideAfterEnding(closed(1001, 'server shutting down'), context({ reconnect: null }));
    expect(decision).toEqual(jasmine.objectContaining({ action: 'stop', retryWhenOnline: true }));
    expect(decision.action === 'stop' && decision.error.message).toBe(
      'gave up after 0 attempts: connection closed (1001 server shutting down)',
    );
  });

  it('refreshes on 4001 and on a refused handshake with an expired token, once per open', () => {
    expect(decideAfterEnding(closed(4001), context())).toEqual({ action: 'refresh-token', reason: 'token expired (4001)', closeCode: 4001 });
    expect(decideAfterEnding(failed(EXPIRED), context())).toEqual(
      { action: 'refresh-token', reason: 'handshake refused with an expired token', closeCode: 1006 },
    );
    const again = decideAfterEnding(failed(EXPIRED), context({ refreshedSinceOpen: true }));
    expect(again).toEqual(jasmine.objectContaining({ action: 'stop', retryWhenOnline: false }));
    expect(again.action === 'stop' && again.error).toEqual(
      jasmine.objectContaining({ kind: 'auth', message: 'handshake refused with an expired token again right after a refresh' }),
    );
  });

  it('stops with an auth error when a refresh is needed but no refreshToken is configured', () => {
    const decision = decideAfterEnding(closed(4001), context({ canRefresh: false }));
    expect(decision).toEqual({
      action: 'stop',
      retryWhenOnline: false,
      error: { kind: 'auth', message: 'token expired (4001) and no refreshToken is configured', closeCode: 4001, at: NOW },
    });
  });

  it('treats a failed handshake with a live token as a network failure unless the gateway answered 401', () => {
    expect(action(decideAfterEnding(failed(VALID), context()))).toBe('wait');
    expect(action(decideAfterEnding(failed('opaque'), context()))).toBe('wait');
    // An expired token on a socket that had opened and dropped is a drop, not a refused handshake.
    expect(action(decideAfterEnding({ ...failed(EXPIRED), opened: true }, context()))).toBe('wait');
    expect(decideAfterEnding({ ...failed(VALID), tokenRefused: true }, context())).toEqual({
      action: 'refresh-token',
      reason: 'handshake refused: the gateway does not accept the token (401)',
      closeCode: 1006,
    });
    const again = decideAfterEnding({ ...failed(VALID), tokenRefused: true }, context({ refreshedSinceOpen: true }));
    expect(action(again)).toBe('stop');
    const unconfigured = decideAfterEnding({ ...failed(VALID), tokenRefused: true }, context({ canRefresh: false }));
    expect(unconfigured.action === 'stop' && unconfigured.error.kind).toBe('auth');
  });

  it('asks the gateway only about failed handshakes that the token\'s exp does not explain', () => {
    expect(shouldCheckHandshake(failed(VALID), NOW)).toBeTrue();
    expect(shouldCheckHandshake(failed('opaque'), NOW)).toBeTrue();
    expect(shouldCheckHandshake(failed(EXPIRED), NOW)).toBeFalse();
    expect(shouldCheckHandshake(closed(1006), NOW)).toBeFalse(); // opened, then dropped
    expect(shouldCheckHandshake({ ...failed(VALID), code: 1005 }, NOW)).toBeFalse();
  });

  it('stops on a refused refresh, backs off after a refresh that could not be made', () => {
    expect(decideAfterRefreshRefused(4001, NOW)).toEqual({
      action: 'stop',
      retryWhenOnline: false,
      error: { kind: 'auth', message: 'token refresh refused: the session is over', closeCode: 4001, at: NOW },
    });
    expect(decideAfterRefreshError(new Error('offline'), context({ failures: 2 }))).toEqual({
      action: 'wait',
      attempt: 3,
      delayMs: 4000,
      error: { kind: 'auth', message: 'token refresh failed: offline', at: NOW },
    });
    const last = decideAfterRefreshError(new Error('offline'), context({ failures: 10 }));
    expect(last).toEqual(jasmine.objectContaining({ action: 'stop', retryWhenOnline: true }));
  });

  it('turns an unexpected error into a final stop', () => {
    expect(decideAfterError(new TypeError('bad URL'), NOW)).toEqual({
      action: 'stop',
      retryWhenOnline: true,
      error: { kind: 'network', message: 'bad URL', at: NOW },
    });
  });

  it('describes endings for error messages', () => {
    expect(describeEnding({ opened: true, code: CloseCode.GoingAway, reason: 'server shutting down' })).toBe(
      'connection closed (1001 server shutting down)',
    );
    expect(describeEnding({ opened: false, code: 1006, reason: '' })).toBe('connection failed (1006)');
  });
});
