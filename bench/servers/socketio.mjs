// Baseline 2: Socket.IO 4 with rooms (what teams usually pick instead). No auth, websocket
// transport only, no compression, default heartbeats. Each socket joins user:<id>, role:<role>
// and broadcast; a publish is `io.to(room).emit(type, event)` (encoded once by the adapter).
// Configured by env PORT, HOST; prints a JSON `listening` line with the url.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { readJson, roomEvent } from '../lib/envelope.mjs';

/** @type {Server} */
let io;
const server = createServer(async (req, res) => {
  if (req.method === 'POST' && req.url === '/api/events') {
    try {
      const request = await readJson(req);
      const event = roomEvent(request);
      io.to(request.room).emit(request.type, event);
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: event.id }));
    } catch {
      res.writeHead(400).end();
    }
    return;
  }
  // Socket.IO attaches its own request listener for /socket.io/; leave those alone.
  if (!req.url?.startsWith('/socket.io/')) res.writeHead(404).end();
});

io = new Server(server, { transports: ['websocket'], perMessageDeflate: false, httpCompression: false, serveClient: false });
io.on('connection', (socket) => {
  const { user = 'anon', role = 'CUSTOMER' } = socket.handshake.query;
  socket.join([`user:${user}`, `role:${role}`, 'broadcast']);
});

server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(JSON.stringify({ msg: 'listening', url: `http://${process.env.HOST ?? '127.0.0.1'}:${port}` }));
});
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => process.exit(0));
