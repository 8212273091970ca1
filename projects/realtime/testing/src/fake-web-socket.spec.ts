import type { ServerMessage } from '@payments-system/protocol';
import { FakeWebSocket } from './fake-web-socket';

describe('FakeWebSocket', () => {
  function open(): { socket: FakeWebSocket; frames: string[] } {
    const socket = new FakeWebSocket('ws://gw.test/ws', ['bearer', 't']);
    const frames: string[] = [];
    socket.onmessage = (event) => frames.push(event.data as string);
    socket.open();
    return { socket, frames };
  }

  it('delivers a frame the protocol accepts', () => {
    const { socket, frames } = open();
    socket.receive({ type: 'pong', payload: {}, timestamp: '2026-12-11T10:00:00.000Z' });
    expect(frames.length).toBe(1);
  });

  it('fails loudly, naming the field, on a frame the gateway never sends, and delivers nothing', () => {
    const { socket, frames } = open();
    const typo = { type: 'payment:updated', payload: { paymentId: 'p1', status: 'done', amount: '1.00', currency: 'EUR' }, timestamp: 'now' };
    expect(() => socket.receive(typo as unknown as ServerMessage)).toThrowError(/payload\.status.*timestamp|timestamp.*payload\.status/);
    expect(frames).toEqual([]);
  });

  it('sends malformed frames on purpose with receiveRaw', () => {
    const { socket, frames } = open();
    socket.receiveRaw('{not json');
    expect(frames).toEqual(['{not json']);
  });

  it('refuse() fails the handshake like a drop, and remembers the status', () => {
    const socket = new FakeWebSocket('ws://gw.test/ws');
    const seen: string[] = [];
    socket.onerror = () => seen.push('error');
    socket.onclose = (event) => seen.push(`close ${event.code}`);
    socket.refuse(401);
    expect(seen).toEqual(['error', 'close 1006']);
    expect(socket.refusedWith).toBe(401);
    expect(() => socket.refuse()).toThrowError(/cannot refuse/);
  });
});
