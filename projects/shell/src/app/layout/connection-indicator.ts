import { Component, computed, DestroyRef, effect, inject, signal } from '@angular/core';
import { Store } from '@ngrx/store';
import { RealtimeService } from '@payments-system/realtime';
import { realtimeConnectionFeature } from '@payments-system/realtime/store';

/** Shows the live connection: connecting, live, reconnecting (with a countdown), offline (with a retry button). */
@Component({
  selector: 'app-connection-indicator',
  template: `
    <div class="conn" [attr.data-state]="state()">
      <span class="conn__dot" aria-hidden="true"></span>
      <!-- Announced on state changes only; the ticking countdown is hidden from screen readers. -->
      <span role="status" aria-label="Connection" class="conn__label">
        @switch (state()) {
          @case ('connected') { Live }
          @case ('connecting') { Connecting… }
          @case ('reconnecting') { Reconnecting<span class="visually-hidden"> (attempt {{ attempt() }})</span> }
          @default { Offline }
        }
      </span>
      @if (state() === 'reconnecting') {
        <span class="conn__detail" aria-hidden="true" data-testid="countdown">{{ countdown() }}</span>
      }
      @if (state() === 'disconnected') {
        @if (reason(); as reason) { <span class="conn__detail">{{ reason }}</span> }
        <button type="button" class="btn btn--small" (click)="retry()">Retry</button>
      }
    </div>
  `,
})
export class ConnectionIndicator {
  private readonly store = inject(Store);
  private readonly realtime = inject(RealtimeService);
  protected readonly state = this.store.selectSignal(realtimeConnectionFeature.selectState);
  protected readonly attempt = this.store.selectSignal(realtimeConnectionFeature.selectAttempt);
  private readonly nextRetryAt = this.store.selectSignal(realtimeConnectionFeature.selectNextRetryAt);
  private readonly lastError = this.store.selectSignal(realtimeConnectionFeature.selectLastError);
  private readonly now = signal(Date.now());

  protected readonly countdown = computed(() => {
    const at = this.nextRetryAt();
    if (at === null) return 'now…';
    return `in ${Math.max(0, Math.ceil((at - this.now()) / 1000))} s`;
  });
  protected readonly reason = computed(() => {
    const error = this.lastError();
    if (!error) return '';
    return error.kind === 'auth' ? 'Session ended' : 'Connection lost';
  });

  constructor() {
    // Tick only while a retry is scheduled.
    let timer: ReturnType<typeof setInterval> | undefined;
    const stop = () => {
      clearInterval(timer);
      timer = undefined;
    };
    effect(() => {
      if (this.nextRetryAt() === null) return stop();
      this.now.set(Date.now());
      timer ??= setInterval(() => this.now.set(Date.now()), 250);
    });
    inject(DestroyRef).onDestroy(stop);
  }

  protected retry(): void {
    this.realtime.reconnect();
  }
}
