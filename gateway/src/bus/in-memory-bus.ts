/** The embedded bus: one process, events delivered synchronously, ids from a counter. */
import type { PublishRequest } from '@payments-system/protocol';
import { toRoomEvent, type Bus, type EventSink } from './bus.ts';

export class InMemoryBus implements Bus {
  private sink: EventSink | undefined;
  private sequence = 0;

  async start(sink: EventSink): Promise<void> {
    this.sink = sink;
  }

  async publish(request: PublishRequest): Promise<string> {
    const id = String(++this.sequence);
    this.sink?.(request.room, toRoomEvent(request, id, new Date().toISOString()));
    return id;
  }

  async close(): Promise<void> {
    this.sink = undefined;
  }
}
