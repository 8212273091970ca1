// The gateway's own code that the bench's plain-node processes (load generators, baselines,
// orchestrators) use, so that tokens and events are the gateway's, never a copy of them.
// Bundled by ./gateway.mjs; a file of the bench that needs more of the gateway adds it here.
export { secretKey, signAccessToken } from '../../gateway/src/auth/tokens.ts';
export { toRoomEvent } from '../../gateway/src/bus/bus.ts';
export { compareEventIds } from '@payments-system/protocol';
