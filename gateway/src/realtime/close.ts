/** The one way the gateway closes a client's socket: with a protocol close code and its reason. */
import { CLOSE_CODE_INFO, type CloseCode } from '@payments-system/protocol';
import type { Connection } from './connection.ts';

/** Starts the closing handshake with `code` and the reason the protocol gives it. */
export function closeWith(connection: Connection, code: CloseCode): void {
  connection.socket.close(code, CLOSE_CODE_INFO[code].reason);
}
