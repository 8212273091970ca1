/**
 * Runs work, then every item queued meanwhile, in order: nothing is handled re-entrantly. A member posts to itself
 * while it handles a message (it is a member of its own group), and the owner posts from its socket's events too.
 */
export class SerialInbox<T> {
  private readonly queue: T[] = [];
  private running = false;

  constructor(private readonly handle: (item: T) => void) {}

  /** A run is going on: what is queued now is handled before it returns. */
  get busy(): boolean {
    return this.running;
  }

  push(item: T): void {
    this.queue.push(item);
  }

  run(work: () => void): void {
    if (this.running) return work();
    this.running = true;
    try {
      work();
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) this.handle(next);
    } finally {
      this.running = false;
    }
  }
}
