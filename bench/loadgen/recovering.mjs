// Load-generator worker for `npm run bench:recovery` (forked, driven over IPC): customers that
// recover like the Angular library does. Each one remembers the id of the last room event it
// handed on; after an unplanned close it waits a random delay in [jitterMinMs, jitterMaxMs), then
// reconnects to the fallback URL with `?since=<lastId>` and sends `resume`, holds room events until
// `resumed` (or `recovery:failed`), and hands them on sorted, dropping ids at or below lastId.
// A failed reconnect is retried after a full-jitter backoff (up to 4 s). At the end each client's
// events are checked against what the publisher had accepted for its rooms.
import WebSocket from 'ws';
import { secretKey, userToken } from '../lib/tokens.mjs';

const clients = [];
let jitter = { min: 1000, max: 4000 };

/** Negative when a comes first (ids are `<ms>-<seq>`). */
function compareIds(a, b) {
  const dashA = a.indexOf('-');
  const dashB = b.indexOf('-');
  const msA = Number(a.slice(0, dashA));
  const msB = Number(b.slice(0, dashB));
  if (msA !== msB) return msA - msB;
  return Number(a.slice(dashA + 1)) - Number(b.slice(dashB + 1));
}

class Client {
  constructor(index, token, url, fallbackUrl, localAddress) {
    this.index = index;
    this.token = token;
    this.url = url;
    this.fallbackUrl = fallbackUrl;
    this.localAddress = localAddress;
    this.received = [];
    this.lastId = undefined;
    this.resuming = false;
    this.held = [];
    this.liveDuplicates = 0;
    this.overlapDropped = 0;
    this.closedAt = undefined;
    /** When the gateway answered the resume (or the socket opened, without a position). */
    this.liveAt = undefined;
    this.outcome = undefined;
    this.reconnectAttempts = 0;
    /** When the first reconnect attempt started, and when its socket opened (the 101). */
    this.reconnectingAt = undefined;
    this.openedAt = undefined;
    this.connectFailures = {};
    this.stopped = false;
  }

  open(url, onSettled) {
    const target = new URL(`${url}/ws`);
    if (this.lastId !== undefined) target.searchParams.set('since', this.lastId);
    const ws = new WebSocket(target, ['bearer', this.token], { localAddress: this.localAddress, perMessageDeflate: false, handshakeTimeout: 15_000 });
    this.ws = ws;
    let opened = false;
    ws.on('error', (error) => {
      if (!opened) this.connectFailures[error.code ?? error.message] = (this.connectFailures[error.code ?? error.message] ?? 0) + 1;
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

  onMessage(message) {
    if (message.id !== undefined) {
      if (this.resuming) this.held.push(message);
      else if (this.lastId !== undefined && compareIds(message.id, this.lastId) <= 0) this.liveDuplicates++;
      else this.deliver(message);
      return;
    }
    if (message.type === 'resumed' || message.type === 'recovery:failed') {
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

  deliver(event) {
    this.received.push(event.id);
    this.lastId = event.id;
  }

  onClose(ws, opened) {
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
async function connectAll({ url, concurrency }) {
  let next = 0;
  let failed = 0;
  async function lane() {
    while (next < clients.length) {
      const client = clients[next++];
      const ok = await new Promise((resolve) => client.open(url, resolve));
      if (!ok) failed++;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, clients.length) }, lane));
  return { opened: clients.length - failed, failed };
}

/** Merges two id-ordered lists. */
function merge(a, b) {
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && compareIds(a[i], b[j]) < 0)) out.push(a[i++]);
    else out.push(b[j++]);
  }
  return out;
}

process.on('message', async (message) => {
  const { cmd, seq } = message;
  try {
    if (cmd === 'setup') {
      const key = secretKey(message.secret);
      jitter = { min: message.jitterMinMs, max: message.jitterMaxMs };
      for (let i = 0; i < message.count; i++) {
        const index = message.from + i;
        const token = userToken(key, `u${index}`, 'CUSTOMER');
        clients.push(new Client(index, token, message.url, message.fallbackUrl, message.sourceAddresses[i % message.sourceAddresses.length]));
      }
      process.send({ seq, ok: true });
    } else if (cmd === 'connect') {
      process.send({ seq, ...(await connectAll(message)) });
    } else if (cmd === 'progress') {
      // Times (ms since the epoch) at which each client that lost its socket was live again.
      const live = [];
      let closed = 0;
      for (const client of clients) {
        if (client.closedAt !== undefined) closed++;
        if (client.liveAt !== undefined) live.push(client.liveAt);
      }
      process.send({ seq, closed, live, open: clients.filter((c) => c.ws?.readyState === WebSocket.OPEN && !c.resuming).length });
    } else if (cmd === 'lastReceived') {
      // Whether every client has received the newest expected event of its rooms.
      const { user, shared } = message;
      let missing = 0;
      for (const client of clients) {
        const mine = user[client.index] ?? [];
        const last = [mine.at(-1), shared.at(-1)].filter(Boolean).sort(compareIds).at(-1);
        if (last !== undefined && !(client.lastId !== undefined && compareIds(client.lastId, last) >= 0)) missing++;
      }
      process.send({ seq, missing });
    } else if (cmd === 'report') {
      const { user, shared } = message;
      process.send({ seq, clients: clients.map((client) => client.report(merge(user[client.index] ?? [], shared))) });
    } else if (cmd === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send({ seq, cpuMicros: user + system });
    } else if (cmd === 'stop') {
      for (const client of clients) {
        client.stopped = true;
        client.ws?.terminate();
      }
      process.send({ seq, ok: true });
    } else if (cmd === 'exit') {
      process.exit(0);
    }
  } catch (error) {
    process.send({ seq, error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
