// The one message every server under test delivers, and how publishers and receivers read it.
// The baselines deliver it as the gateway does: the gateway's own `toRoomEvent`, ids of its form.
// The payload carries the publisher's CLOCK_MONOTONIC time (process.hrtime, shared by every
// process on the machine) between `@T` and `@`, so receivers need no JSON parse.
import { toRoomEvent } from './gateway.mjs';

/** The body POSTed to `/api/events` on every server (the gateway's PublishRequest). */
export function publishBody(/** @type {import('@payments-system/protocol').Room} */ room, padding = '') {
  return JSON.stringify({
    room,
    type: 'system:broadcast',
    payload: { message: `@T${process.hrtime.bigint()}@${padding}`, level: 'info' },
  });
}

/** Monotonic send time (ns, as bigint) found in a delivered frame, or undefined. */
export function sentAt(/** @type {string} */ text) {
  const start = text.indexOf('@T');
  if (start < 0) return undefined;
  const end = text.indexOf('@', start + 2);
  return BigInt(text.slice(start + 2, end));
}

let sequence = 0;

/** What the gateway's bus makes of a publish request: its `toRoomEvent`, an id of its `<ms>-<seq>` form. */
export function roomEvent(/** @type {import('@payments-system/protocol').PublishRequest} */ request) {
  const now = Date.now();
  return toRoomEvent(request, `${now}-${sequence++}`, new Date(now).toISOString());
}

/**
 * Reads a JSON request body (baselines only; the gateway has its own Koa stack). The baselines take
 * the bench's own publisher at its word: the body is the PublishRequest it sent.
 * @param {import('node:http').IncomingMessage} req
 * @returns {Promise<import('@payments-system/protocol').PublishRequest>}
 */
export function readJson(req, limit = 65536) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    req.on('data', (/** @type {Buffer} */ chunk) => {
      size += chunk.length;
      if (size > limit) reject(new Error('body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}
