/** Path of the WebSocket endpoint on the gateway. */
export const WS_PATH = '/ws';

/**
 * Subprotocol that carries the access token: the client offers `['bearer', <JWT>]`
 * and the gateway selects `bearer`. Unlike `?token=`, it never lands in URLs or proxy logs.
 */
export const BEARER_SUBPROTOCOL = 'bearer';

/** Query parameter that carries the access token when a client cannot set subprotocols. */
export const TOKEN_QUERY_PARAM = 'token';

/**
 * Query parameter with the id of the last event a reconnecting client saw. The gateway then holds
 * live events for the socket until its `resume` has been replayed, so no live event overtakes the
 * replay. Event ids are not secrets; they may appear in logs.
 */
export const SINCE_QUERY_PARAM = 'since';
