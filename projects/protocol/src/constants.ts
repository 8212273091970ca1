/** Path of the WebSocket endpoint on the gateway. */
export const WS_PATH = '/ws';

/**
 * Subprotocol that carries the access token: the client offers `['bearer', <JWT>]`
 * and the gateway selects `bearer`. Unlike `?token=`, it never lands in URLs or proxy logs.
 */
export const BEARER_SUBPROTOCOL = 'bearer';

/** Query parameter that carries the access token when a client cannot set subprotocols. */
export const TOKEN_QUERY_PARAM = 'token';
