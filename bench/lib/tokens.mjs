// The tokens every bench client and publisher shows, signed by the gateway's own `signAccessToken`.
import { signAccessToken } from './gateway.mjs';

export { secretKey } from './gateway.mjs';

/** @typedef {import('@payments-system/protocol').Role} Role */

/** The token of bench user `userId` (`u<index>` for the load generators' clients). */
export function userToken(/** @type {import('node:crypto').KeyObject} */ key, /** @type {string} */ userId, /** @type {Role} */ role, expiresInSeconds = 3600) {
  return signAccessToken(key, { userId, email: `${userId}@bench.test`, role }, { expiresInSeconds });
}

/** The token the publisher sends to the gateway (an ADMIN may publish to any room). */
export function adminToken(/** @type {string} */ secret, expiresInSeconds = 6 * 3600) {
  return signAccessToken(secret, { userId: 'bench_admin', email: 'admin@bench.test', role: 'ADMIN' }, { expiresInSeconds });
}
