import { Component, inject, input } from '@angular/core';
import { toObservable, toSignal } from '@angular/core/rxjs-interop';
import { paymentRoom } from '@payments-system/protocol';
import { RealtimeService } from '@payments-system/realtime';
import { switchMap } from 'rxjs';

// Who else has this payment open: being in its room is what makes a page a viewer.
@Component({
  selector: 'app-payment-viewers',
  template: `@for (viewer of viewers(); track viewer.userId) { <span>{{ viewer.userId }} ({{ viewer.role }})</span> }`,
})
export class PaymentViewersComponent {
  readonly paymentId = input.required<string>();
  private readonly realtime = inject(RealtimeService);
  private readonly id$ = toObservable(this.paymentId);
  // In the room while shown (room() joins on subscribe and leaves on unsubscribe)...
  protected readonly events = toSignal(this.id$.pipe(switchMap((id) => this.realtime.room(paymentRoom(id)))));
  // ...and everyone in it, this user's own tabs included.
  protected readonly viewers = toSignal(this.id$.pipe(switchMap((id) => this.realtime.presence$(paymentRoom(id)))), {
    initialValue: [],
  });
}
