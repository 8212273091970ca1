import { Component, computed, inject, input } from '@angular/core';
import { toObservable, toSignal } from '@angular/core/rxjs-interop';
import { paymentRoom } from '@payments-system/protocol';
import { RealtimeService } from '@payments-system/realtime';
import { catchError, of, switchMap } from 'rxjs';
import { AuthService } from '../core/auth.service';

const ROLE_LABELS = { ADMIN: 'support', CUSTOMER: 'customer', VENDOR: 'vendor' } as const;

/**
 * Who else is looking at a payment: the other users in its room (everyone who has it open), on any gateway. The
 * page that shows it must be in the room itself (`realtime.room(paymentRoom(id))`) to be seen by the others.
 */
@Component({
  selector: 'app-payment-viewers',
  template: `
    <p class="viewers" role="status" aria-label="Also viewing">
      @if (others().length === 0) {
        <span class="muted">Nobody else is looking at this payment.</span>
      } @else {
        Also looking at this payment:
        @for (viewer of others(); track viewer.userId) {
          <span class="viewer" [attr.data-user-id]="viewer.userId">{{ viewer.userId }} <span class="muted">({{ roles[viewer.role] }})</span></span>
        }
      }
    </p>
  `,
})
export class PaymentViewers {
  readonly paymentId = input.required<string>();
  private readonly realtime = inject(RealtimeService);
  private readonly auth = inject(AuthService);
  protected readonly roles = ROLE_LABELS;

  private readonly viewers = toSignal(
    toObservable(this.paymentId).pipe(switchMap((id) => this.realtime.presence$(paymentRoom(id)).pipe(catchError(() => of([]))))),
    { initialValue: [] },
  );
  /** Everyone in the room but me (my other tabs included: they are me). */
  protected readonly others = computed(() => this.viewers().filter((viewer) => viewer.userId !== this.auth.user()?.userId));
}
