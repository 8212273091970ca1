/** Ports on 127.0.0.1 for the servers the test harnesses start. */
import { once } from 'node:events';
import { connect as tcpConnect, createServer } from 'node:net';

/** A TCP port that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Resolves once something accepts TCP connections on `port`. Fails after `timeoutMs`, or as soon
 * as `alive()` turns false (the child process that should listen has exited); the error names the
 * child and ends with `details()`, read then (its output so far).
 */
export async function waitForPort(
  port: number,
  alive: () => boolean,
  what: string,
  timeoutMs = 10_000,
  details: () => string = () => '',
): Promise<void> {
  const failure = (message: string) => new Error(`${what} ${message}${details() ? `:\n${details()}` : ''}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive()) throw failure(`exited before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw failure(`did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}
