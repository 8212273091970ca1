import { Component, inject, input } from '@angular/core';
import { toObservable, toSignal } from '@angular/core/rxjs-interop';
import { paymentRoom } from '@payments-system/protocol';
import { RealtimeService } from '@payments-system/realtime';
import { filter, map, switchMap } from 'rxjs';

// Declarative, the Angular form of "subscribe on mount, unsubscribe on unmount".
@Component({ selector: 'app-payment-status', template: `{{ status() }}` })
export class PaymentStatusComponent {
  readonly paymentId = input.required<string>();
  private readonly realtime = inject(RealtimeService);
  protected readonly status = toSignal(
    toObservable(this.paymentId).pipe(
      switchMap((id) => this.realtime.room(paymentRoom(id))), // joins on first subscriber, leaves after the last
      filter((event) => event.type === 'payment:updated'),
      map((event) => event.payload.status),
    ),
  );
}
