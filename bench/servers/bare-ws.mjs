// Baseline 1: a bare `ws` server, the practical limit for Node + ws. No auth. Each socket
// joins three rooms (user:<id>, role:<role>, broadcast) in a room → Set index, as the gateway
// does. A broadcast is serialized once and framed once (Sender.frame), and those bytes are
// written to every open socket's TCP socket: one write per event per socket.
// Configured by env PORT, HOST; prints a JSON `listening` line with the url.
//
// With `--verify-tokens` (the connection-rate baseline of `npm run bench`), it authenticates like
// the gateway instead: the token from the `bearer` subprotocol, verified with jsonwebtoken (HS256,
// JWT_SECRET as a KeyObject), 401 when invalid, and the rooms from its claims.
import { createServer } from 'node:http';
import jwt from 'jsonwebtoken';
import * as wsExports from 'ws';
import { WebSocketServer, WebSocket } from 'ws';
import { readJson, roomEvent } from '../lib/envelope.mjs';
import { secretKey } from '../lib/tokens.mjs';

const verifyTokens = process.argv.includes('--verify-tokens');
const key = verifyTokens ? secretKey(process.env.JWT_SECRET ?? '') : undefined;

/**
 * A socket with its rooms; `ws` keeps the TCP socket as `_socket`.
 * @typedef {WebSocket & { rooms: string[], _socket: import('node:net').Socket }} BenchSocket
 */
/** `ws`'s public `Sender.frame` (exported by ws 8, missing from @types/ws). */
const { Sender } = /** @type {{ Sender: { frame(data: Buffer, options: typeof FRAME_OPTIONS): [Buffer, Buffer] } }} */ (/** @type {unknown} */ (wsExports));

/** @type {Map<string, Set<BenchSocket>>} */
const rooms = new Map();

function join(/** @type {BenchSocket} */ ws, /** @type {string} */ room) {
  let members = rooms.get(room);
  if (!members) rooms.set(room, (members = new Set()));
  members.add(ws);
}
function leave(/** @type {BenchSocket} */ ws, /** @type {string} */ room) {
  const members = rooms.get(room);
  if (members && members.delete(ws) && members.size === 0) rooms.delete(room);
}

const FRAME_OPTIONS = { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false };

function broadcast(/** @type {string} */ room, /** @type {import('@payments-system/protocol').RoomEvent} */ event) {
  const members = rooms.get(room);
  if (!members) return 0;
  const payload = Buffer.from(JSON.stringify(event));
  const [header, body] = Sender.frame(payload, FRAME_OPTIONS);
  const frame = Buffer.concat([header, body]);
  let delivered = 0;
  for (const ws of members) {
    if (ws.readyState !== WebSocket.OPEN) continue;
    ws._socket.write(frame);
    delivered++;
  }
  return delivered;
}

const server = createServer(async (req, res) => {
  if (req.method === 'POST' && req.url === '/api/events') {
    try {
      const request = await readJson(req);
      const event = roomEvent(request);
      broadcast(request.room, event);
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: event.id }));
    } catch {
      res.writeHead(400).end();
    }
    return;
  }
  res.writeHead(404).end();
});

const wss = new WebSocketServer({
  noServer: true,
  clientTracking: false,
  perMessageDeflate: false,
  ...(verifyTokens && { handleProtocols: (protocols) => (protocols.has('bearer') ? 'bearer' : false) }),
});
/** @this {WebSocket} */
function onClose() {
  const ws = /** @type {BenchSocket} */ (this);
  for (const room of ws.rooms) leave(ws, room);
}
function onError() {}
server.on('upgrade', (req, socket, head) => {
  socket.on('error', onError);
  let user;
  let role;
  if (verifyTokens) {
    // `Sec-WebSocket-Protocol: bearer, <token>`, as the gateway's clients send it.
    const token = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim())[1];
    try {
      ({ userId: user, role } = /** @type {{ userId: string, role: string }} */ (jwt.verify(token ?? '', /** @type {import('node:crypto').KeyObject} */ (key), { algorithms: ['HS256'] })));
    } catch {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
  } else {
    const url = new URL(req.url ?? '/', 'http://bench.invalid');
    user = url.searchParams.get('user') ?? 'anon';
    role = url.searchParams.get('role') ?? 'CUSTOMER';
  }
  wss.handleUpgrade(req, socket, head, (client) => {
    const ws = /** @type {BenchSocket} */ (client);
    ws.rooms = [`user:${user}`, `role:${role}`, 'broadcast'];
    for (const room of ws.rooms) join(ws, room);
    ws.on('close', onClose);
    ws.on('error', onError);
  });
});

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(JSON.stringify({ msg: 'listening', url: `http://${process.env.HOST ?? '127.0.0.1'}:${port}` }));
});
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => process.exit(0));
