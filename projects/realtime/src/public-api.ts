/*
 * Public API of @payments-system/realtime. Explicit exports only; names starting with ɵ are internal.
 */
export {
  provideRealtime,
  withQueryParamToken,
  withSharedConnection,
  withWebSocketConstructor,
  RealtimeFeatureKind,
  type RealtimeFeature,
} from './lib/provide-realtime';
export {
  RealtimeService,
  type RealtimeConnectionState,
  type RealtimeConnectionSnapshot,
  type RealtimeRoomAck,
  type RealtimePresenceMember,
} from './lib/realtime.service';
export {
  DEFAULT_HEARTBEAT,
  DEFAULT_RECONNECT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_SEND_QUEUE_SIZE,
  DEFAULT_TOKEN_REFRESH,
  type RealtimeConfig,
  type RealtimeHeartbeatOptions,
  type RealtimeJitter,
  type RealtimeReconnectOptions,
  type RealtimeTokenRefresher,
  type RealtimeTokenRefreshOptions,
  type RealtimeTokenSource,
  type RealtimeTokenValue,
  type WebSocketConstructor,
} from './lib/config';
export {
  RealtimeRequestError,
  type RealtimeError,
  type RealtimeErrorKind,
  type RealtimeRequestErrorCode,
} from './lib/errors';
export { backoffDelay } from './lib/connection/backoff';

/** @internal Used by `@payments-system/realtime/testing`. */
export { ɵREALTIME_WEB_SOCKET_CTOR, ɵREALTIME_ONLINE, ɵREALTIME_RANDOM, ɵREALTIME_HANDSHAKE_CHECK } from './lib/config';
/** @internal Used by `@payments-system/realtime/testing`. */
export type { HandshakeCheck as ɵHandshakeCheck } from './lib/connection/handshake-check';
/** @internal Used by `@payments-system/realtime/testing`. */
export { ɵNO_SHARED_TABS, ɵSHARED_TABS_ENVIRONMENT } from './lib/shared/shared-connection.provider';
