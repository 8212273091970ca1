/**
 * Messages `send()` keeps while not connected, flushed in order on the next connection. Bounded: when full,
 * a new message is refused and the older ones are kept.
 */
export class SendQueue<T> {
  private readonly items: T[] = [];

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.items.length;
  }

  /** Queues `item`; `false` when the queue is full. */
  offer(item: T): boolean {
    if (this.items.length >= this.capacity) return false;
    this.items.push(item);
    return true;
  }

  /** Removes and returns every queued item, oldest first. */
  drain(): T[] {
    return this.items.splice(0);
  }

  clear(): void {
    this.items.length = 0;
  }
}
