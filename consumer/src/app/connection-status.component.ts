import { Component, computed, inject } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { RealtimeService } from '@payments-system/realtime';

@Component({
  selector: 'app-connection-status',
  template: `
    @switch (realtime.state()) {
      @case ('connected') { <span class="ok">Live</span> }
      @case ('reconnecting') { <span>Reconnecting (attempt {{ realtime.attempt() }}) {{ countdown() }}</span> }
      @case ('connecting') { <span>Connecting…</span> }
      @default {
        <span>Offline: {{ realtime.lastError()?.message }}</span>
        <button (click)="realtime.reconnect()">Retry</button>
      }
    }
    @if (lastPayment(); as p) { <p>{{ p.payload.paymentId }} is {{ p.payload.status }}</p> }
  `,
})
export class ConnectionStatusComponent {
  protected readonly realtime = inject(RealtimeService);
  // on() narrows the type: p.payload is PaymentUpdatedPayload.
  protected readonly lastPayment = toSignal(this.realtime.on('payment:updated'));
  protected readonly countdown = computed(() => {
    const at = this.realtime.nextRetryAt();
    return at === null ? '' : `in ${Math.max(0, Math.ceil((at - Date.now()) / 1000))} s`;
  });
}
