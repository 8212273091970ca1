// Load-generator worker for `npm run bench:recovery` (forked, driven over IPC): customers that
// recover like the Angular library does. Each one remembers the id of the last room event it
// handed on; after an unplanned close it waits a random delay in [jitterMinMs, jitterMaxMs), then
// reconnects to the fallback URL with `?since=<lastId>` and sends `resume`, holds room events until
// `resumed` (or `recovery:failed`), and hands them on sorted, dropping ids at or below lastId.
// A failed reconnect is retried after a full-jitter backoff (up to 4 s). At the end each client's
// events are checked against what the publisher had accepted for its rooms.
import WebSocket from 'ws';
import { compareEventIds as compareIds } from '../lib/gateway.mjs';
import { secretKey, userToken } from '../lib/tokens.mjs';

/**
 * @typedef {import('../lib/ipc.ts').RecoveringProtocol} RecoveringProtocol
 * @typedef {import('@payments-system/protocol').ServerMessage} ServerMessage
 * @typedef {{ readonly id: string }} HeldEvent
 */

/** @type {Client[]} */
const clients = [];
let jitter = { min: 1000, max: 4000 };

class Client {
  /** @param {number} index @param {string} token @param {string} url @param {string} fallbackUrl @param {string | undefined} localAddress */
  constructor(index, token, url, fallbackUrl, localAddress) {
    this.index = index;
    this.token = token;
    this.url = url;
    this.fallbackUrl = fallbackUrl;
    this.localAddress = localAddress;
    /** @type {string[]} */
    this.received = [];
    /** @type {string | undefined} */
    this.lastId = undefined;
    this.resuming = false;
    /** @type {HeldEvent[]} */
    this.held = [];
    this.liveDuplicates = 0;
    this.overlapDropped = 0;
    /** @type {number | undefined} */
    this.closedAt = undefined;
    /**
     * When the gateway answered the resume (or the socket opened, without a position).
     * @type {number | undefined}
     */
    this.liveAt = undefined;
    /** @type {string | undefined} */
    this.outcome = undefined;
    this.reconnectAttempts = 0;
    /**
     * When the first reconnect attempt started, and when its socket opened (the 101).
     * @type {number | undefined}
     */
    this.reconnectingAt = undefined;
    /** @type {number | undefined} */
    this.openedAt = undefined;
    /** @type {Record<string, number>} */
    this.connectFailures = {};
    this.stopped = false;
    /** @type {WebSocket | undefined} */
    this.ws = undefined;
  }

  /** @param {string} url @param {(opened: boolean) => void} [onSettled] */
  open(url, onSettled) {
    const target = new URL(`${url}/ws`);
    if (this.lastId !== undefined) target.searchParams.set('since', this.lastId);
    const ws = new WebSocket(target, ['bearer', this.token], { localAddress: this.localAddress, perMessageDeflate: false, handshakeTimeout: 15_000 });
    this.ws = ws;
    let opened = false;
    ws.on('error', (/** @type {NodeJS.ErrnoException} */ error) => {
      const why = error.code ?? error.message;
      if (!opened) this.connectFailures[why] = (this.connectFailures[why] ?? 0) + 1;
    });
    ws.on('unexpected-response', (request, response) => {
      this.connectFailures[`HTTP ${response.statusCode}`] = (this.connectFailures[`HTTP ${response.statusCode}`] ?? 0) + 1;
      request.destroy();
    });
    ws.on('open', () => {
      opened = true;
      onSettled?.(true);
      if (this.closedAt === undefined) return; // the first connection: nothing to resume
      this.openedAt ??= Date.now();
      if (this.lastId === undefined) {
        this.outcome = 'no-position';
        this.liveAt = Date.now();
        return;
      }
      this.resuming = true;
      this.held = [];
      ws.send(JSON.stringify({ type: 'resume', payload: { since: this.lastId } }));
    });
    ws.on('message', (data) => this.onMessage(JSON.parse(String(data))));
    ws.on('close', () => {
      if (!opened) onSettled?.(false);
      this.onClose(ws, opened);
    });
  }

  /**
   * A room event (it has an id) or one of the gateway's answers; only `resumed` and `recovery:failed` matter here.
   * @param {HeldEvent | { type: string, payload: { reason?: string } }} message
   */
  onMessage(message) {
    if ('id' in message && message.id !== undefined) {
      if (this.resuming) this.held.push(message);
      else if (this.lastId !== undefined && compareIds(message.id, this.lastId) <= 0) this.liveDuplicates++;
      else this.deliver(message);
      return;
    }
    if ('type' in message && (message.type === 'resumed' || message.type === 'recovery:failed')) {
      this.resuming = false;
      const held = this.held.sort((a, b) => compareIds(a.id, b.id));
      this.held = [];
      for (const event of held) {
        if (this.lastId !== undefined && compareIds(event.id, this.lastId) <= 0) this.overlapDropped++;
        else this.deliver(event);
      }
      if (this.liveAt === undefined) {
        this.liveAt = Date.now();
        this.outcome = message.type === 'resumed' ? 'resumed' : message.payload.reason;
      }
    }
  }

  deliver(/** @type {HeldEvent} */ event) {
    this.received.push(event.id);
    this.lastId = event.id;
  }

  onClose(/** @type {WebSocket} */ ws, /** @type {boolean} */ opened) {
    if (ws !== this.ws || this.stopped) return;
    this.resuming = false;
    this.held = [];
    if (this.closedAt === undefined) this.closedAt = Date.now();
    // The first attempt after the loss waits within the jitter window; later ones back off.
    const delay =
      this.reconnectAttempts === 0
        ? jitter.min + Math.random() * (jitter.max - jitter.min)
        : Math.random() * Math.min(4000, 250 * 2 ** this.reconnectAttempts);
    this.reconnectAttempts++;
    if (opened && this.liveAt !== undefined) {
      // Lost again after it was live: the figures count the first recovery only.
      this.outcome = this.outcome === 'resumed' ? 'resumed-then-lost' : this.outcome;
    }
    setTimeout(() => {
      this.reconnectingAt ??= Date.now();
      if (!this.stopped) this.open(this.fallbackUrl);
    }, delay);
  }

  /** @param {readonly string[]} expected @returns {import('../lib/ipc.ts').ClientReport} */
  report(expected) {
    const seen = new Set(this.received);
    let lost = 0;
    for (const id of expected) if (!seen.has(id)) lost++;
    const expectedSet = new Set(expected);
    let unexpected = 0;
    for (const id of seen) if (!expectedSet.has(id)) unexpected++;
    let outOfOrder = 0;
    for (let i = 1; i < this.received.length; i++) if (compareIds(this.received[i - 1], this.received[i]) >= 0) outOfOrder++;
    return {
      outcome: this.outcome ?? (this.closedAt === undefined ? 'never-closed' : 'not-live'),
      lost,
      duplicated: this.received.length - seen.size + this.liveDuplicates,
      overlapDropped: this.overlapDropped,
      outOfOrder,
      unexpected,
      expected: expected.length,
      received: this.received.length,
      closedAt: this.closedAt,
      reconnectingAt: this.reconnectingAt,
      openedAt: this.openedAt,
      liveAt: this.liveAt,
      reconnectAttempts: this.reconnectAttempts,
      connectFailures: this.connectFailures,
    };
  }
}

/** Opens every client's first connection, `concurrency` handshakes at a time. */
async function connectAll(/** @type {RecoveringProtocol['connect']['args']} */ { url, concurrency }) {
  let next = 0;
  let failed = 0;
  async function lane() {
    while (next < clients.length) {
      const client = /** @type {Client} */ (clients[next++]);
      const ok = await new Promise((resolve) => client.open(url, resolve));
      if (!ok) failed++;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, clients.length) }, lane));
  return { opened: clients.length - failed, failed };
}

/** Merges two id-ordered lists. */
function merge(/** @type {readonly string[]} */ a, /** @type {readonly string[]} */ b) {
  /** @type {string[]} */
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && compareIds(a[i], b[j]) < 0)) out.push(a[i++]);
    else out.push(b[j++]);
  }
  return out;
}

/**
 * Answers the orchestrator.
 * @template {keyof RecoveringProtocol & string} C
 * @param {import('../lib/ipc.ts').Reply<RecoveringProtocol, C> | import('../lib/ipc.ts').Failure | { ready: true }} message
 */
function send(message) {
  process.send?.(message);
}

process.on('message', async (/** @type {import('../lib/ipc.ts').Request<RecoveringProtocol> | { cmd: 'exit', seq: number }} */ message) => {
  const { seq } = message;
  try {
    if (message.cmd === 'setup') {
      const key = secretKey(message.secret);
      jitter = { min: message.jitterMinMs, max: message.jitterMaxMs };
      for (let i = 0; i < message.count; i++) {
        const index = message.from + i;
        const token = userToken(key, `u${index}`, 'CUSTOMER');
        clients.push(new Client(index, token, message.url, message.fallbackUrl, message.sourceAddresses[i % message.sourceAddresses.length]));
      }
      send({ seq, ok: true });
    } else if (message.cmd === 'connect') {
      send({ seq, ...(await connectAll(message)) });
    } else if (message.cmd === 'progress') {
      // Times (ms since the epoch) at which each client that lost its socket was live again.
      /** @type {number[]} */
      const live = [];
      let closed = 0;
      for (const client of clients) {
        if (client.closedAt !== undefined) closed++;
        if (client.liveAt !== undefined) live.push(client.liveAt);
      }
      send({ seq, closed, live, open: clients.filter((c) => c.ws?.readyState === WebSocket.OPEN && !c.resuming).length });
    } else if (message.cmd === 'lastReceived') {
      // Whether every client has received the newest expected event of its rooms.
      const { user, shared } = message;
      let missing = 0;
      for (const client of clients) {
        const mine = user[client.index] ?? [];
        const last = [mine.at(-1), shared.at(-1)].filter((id) => id !== undefined).sort(compareIds).at(-1);
        if (last !== undefined && !(client.lastId !== undefined && compareIds(client.lastId, last) >= 0)) missing++;
      }
      send({ seq, missing });
    } else if (message.cmd === 'report') {
      const { user, shared } = message;
      send({ seq, clients: clients.map((client) => client.report(merge(user[client.index] ?? [], shared))) });
    } else if (message.cmd === 'cpu') {
      const { user, system } = process.cpuUsage();
      send({ seq, cpuMicros: user + system });
    } else if (message.cmd === 'stop') {
      for (const client of clients) {
        client.stopped = true;
        client.ws?.terminate();
      }
      send({ seq, ok: true });
    } else if (message.cmd === 'exit') {
      process.exit(0);
    }
  } catch (error) {
    send({ seq, error: String(error instanceof Error ? error.stack : error) });
  }
});
process.on('disconnect', () => process.exit(0));
send({ ready: true });
