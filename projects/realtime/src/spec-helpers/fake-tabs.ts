/**
 * A fake browser for the shared connection's specs: pages with `BroadcastChannel`s and Web Locks that behave like the
 * real ones in what matters (delivery to every other channel object of a name, in order; locks granted in request
 * order, `steal`, `signal`; a closed or crashed page's locks released; a frozen page runs nothing, and what is meant for
 * it waits), with every delivery a task run by {@link FakeTabs.flush}, so a spec decides when things arrive.
 */
import { filter, interval, Subject, type Observable } from 'rxjs';
import type { LockManagerLike } from '../lib/shared/lock-election';
import type { SharedTabsEnvironment } from '../lib/shared/shared-connection.provider';
import { SHARED_TIMING, type PageLifecycleEvent, type SharedTiming } from '../lib/shared/shared-transport-deps';
import type { TabChannel } from '../lib/shared/tab-channel';
import { readTabMessage, type TabMessage } from '../lib/shared/tab-messages';
import { settle } from './server-messages';

interface Task {
  readonly page: FakePage;
  readonly run: () => void;
}

interface LockRequest {
  readonly page: FakePage;
  readonly callback: (lock: unknown) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  /** Taken over by a `steal`: its own release no longer counts. */
  stolen: boolean;
}

interface LockState {
  holder: LockRequest | null;
  readonly queue: LockRequest[];
}

const abortError = () => new DOMException('The lock request was aborted', 'AbortError');

export class FakeTabs {
  private readonly tasks: Task[] = [];
  /** @internal Every open channel object. */
  readonly channels = new Set<FakeChannel>();
  private readonly locks = new Map<string, LockState>();
  private readonly pages: FakePage[] = [];
  private members = 0;
  /** Every message posted on any channel, in order (what a spec may assert on). */
  readonly posted: Array<{ readonly name: string; readonly message: unknown }> = [];

  constructor(readonly timing: SharedTiming = SHARED_TIMING) {}

  /** A new tab. `locks: false` plays a browser (or an insecure origin) without Web Locks. */
  page(options: { locks?: boolean; channels?: boolean } = {}): FakePage {
    const page = new FakePage(this, options.locks ?? true, options.channels ?? true);
    this.pages.push(page);
    return page;
  }

  /** Runs every task (and the promise callbacks they start) until none is left but those of frozen pages. */
  async flush(): Promise<void> {
    for (let guard = 0; guard < 100_000; guard++) {
      await settle();
      const i = this.tasks.findIndex((t) => !t.page.frozen);
      if (i < 0) return;
      const [task] = this.tasks.splice(i, 1);
      if (!task!.page.closed) task!.run();
    }
    throw new Error('FakeTabs.flush: tasks keep coming (a loop between tabs?)');
  }

  /** Holders and waiters of every lock, by page label. */
  lockHolders(): Record<string, string | null> {
    const holders: Record<string, string | null> = {};
    for (const [name, state] of this.locks) holders[name] = state.holder?.page.label ?? null;
    return holders;
  }

  /** @internal */
  nextMemberId(): string {
    return `member-${String(++this.members).padStart(3, '0')}`;
  }

  /** @internal */
  schedule(page: FakePage, run: () => void): void {
    this.tasks.push({ page, run });
  }

  /** @internal */
  open(channel: FakeChannel): void {
    this.channels.add(channel);
  }

  /** @internal */
  close(channel: FakeChannel): void {
    this.channels.delete(channel);
  }

  /** @internal Structured clone to every other channel object of the name. */
  post(from: FakeChannel, message: TabMessage): void {
    if (from.page.closed) return;
    this.posted.push({ name: from.name, message });
    for (const to of this.channels) {
      if (to === from || to.name !== from.name) continue;
      const copy = structuredClone(message);
      this.schedule(to.page, () => to.deliver(copy));
    }
  }

  /** @internal */
  request(page: FakePage, name: string, options: { steal?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const state = this.locks.get(name) ?? { holder: null, queue: [] };
      this.locks.set(name, state);
      const request: LockRequest = { page, callback, resolve, reject, stolen: false };
      if (options.signal?.aborted) return reject(abortError());
      options.signal?.addEventListener('abort', () => {
        const i = state.queue.indexOf(request);
        if (i < 0) return; // granted already: aborting changes nothing
        state.queue.splice(i, 1);
        this.schedule(page, () => reject(abortError()));
      });
      if (options.steal) {
        const holder = state.holder;
        if (holder) {
          holder.stolen = true;
          this.schedule(holder.page, () => holder.reject(abortError()));
        }
        state.holder = null;
        this.grant(name, state, request);
        return;
      }
      state.queue.push(request);
      this.next(name, state);
    });
  }

  /** @internal A page closed or crashed: the browser releases what it held and forgets what it waited for. */
  release(page: FakePage): void {
    for (const [name, state] of this.locks) {
      for (let i = state.queue.length - 1; i >= 0; i--) if (state.queue[i]!.page === page) state.queue.splice(i, 1);
      if (state.holder?.page === page) {
        state.holder = null;
        this.next(name, state);
      }
    }
    for (const channel of [...this.channels]) if (channel.page === page) this.channels.delete(channel);
    for (let i = this.tasks.length - 1; i >= 0; i--) if (this.tasks[i]!.page === page) this.tasks.splice(i, 1);
  }

  private next(name: string, state: LockState): void {
    if (state.holder || state.queue.length === 0) return;
    this.grant(name, state, state.queue.shift()!);
  }

  private grant(name: string, state: LockState, request: LockRequest): void {
    state.holder = request;
    this.schedule(request.page, () => {
      const done = (settleRequest: () => void) => {
        if (!request.stolen) settleRequest();
        if (state.holder === request) {
          state.holder = null;
          this.next(name, state);
        }
      };
      Promise.resolve()
        .then(() => request.callback({ name }))
        .then(
          (value) => done(() => request.resolve(value)),
          (error: unknown) => done(() => request.reject(error)),
        );
    });
  }
}

export class FakeChannel implements TabChannel {
  private readonly subject = new Subject<TabMessage>();
  readonly messages$: Observable<TabMessage> = this.subject.asObservable();
  constructor(
    private readonly tabs: FakeTabs,
    readonly page: FakePage,
    readonly name: string,
  ) {
    tabs.open(this);
  }

  post(message: TabMessage): void {
    this.tabs.post(this, message);
  }

  close(): void {
    this.tabs.close(this);
  }

  /** @internal */
  deliver(data: unknown): void {
    const message = readTabMessage(data);
    if (message) this.subject.next(message);
  }
}

let pageCount = 0;

export class FakePage {
  frozen = false;
  closed = false;
  readonly label = `page-${++pageCount}`;
  readonly lifecycle = new Subject<PageLifecycleEvent>();
  readonly env: SharedTabsEnvironment;

  constructor(
    private readonly tabs: FakeTabs,
    withLocks: boolean,
    withChannels: boolean,
  ) {
    const locks: LockManagerLike = { request: (name, options, callback) => tabs.request(this, name, options, callback) };
    const timing = tabs.timing;
    this.env = {
      channels: withChannels ? (name) => new FakeChannel(tabs, this, name) : null,
      locks: withLocks ? locks : null,
      lifecycle$: this.lifecycle.asObservable(),
      ticks: (periodMs) => interval(periodMs).pipe(filter(() => !this.frozen && !this.closed)),
      timing,
      memberId: () => tabs.nextMemberId(),
    };
  }

  /** Frozen without a `freeze` event (as `Page.setWebLifecycleState` does): nothing runs, locks stay held. */
  freeze(): void {
    this.frozen = true;
  }

  unfreeze(): void {
    this.frozen = false;
  }

  /** Gone without `pagehide` (a crash): the browser releases its locks; it receives nothing more. */
  crash(): void {
    this.closed = true;
    this.tabs.release(this);
  }

  /** A raw message on a channel of this page, as another script could post it. */
  postRaw(channel: string, data: unknown): void {
    for (const c of this.tabs.channels) {
      if (c.name === channel && c.page !== this) this.tabs.schedule(c.page, () => c.deliver(data));
    }
  }
}
