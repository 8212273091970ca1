import { Component, computed, inject, input } from '@angular/core';
import { toObservable, toSignal } from '@angular/core/rxjs-interop';
import { userRoom } from '@payments-system/protocol';
import { RealtimeService } from '@payments-system/realtime';
import { catchError, map, of, switchMap } from 'rxjs';

/**
 * Whether a user is online: has at least one socket open, on any gateway (the presence of their `user:` room).
 * Rows of the same customer share one watch (the library counts its observers). Unknown until the first list.
 */
@Component({
  selector: 'app-online-status',
  template: `
    <span class="presence" [attr.data-presence]="status()">
      <span class="presence__dot" aria-hidden="true"></span>
      <span class="presence__label">{{ labels[status()] }}</span>
    </span>
  `,
})
export class OnlineStatus {
  readonly userId = input.required<string>();
  private readonly realtime = inject(RealtimeService);
  protected readonly labels = { online: 'online', offline: 'offline', unknown: '' } as const;

  private readonly online = toSignal(
    toObservable(this.userId).pipe(
      switchMap((userId) =>
        this.realtime.presence$(userRoom(userId)).pipe(
          map((members) => members.some((member) => member.userId === userId)),
          catchError(() => of(null)), // refused (too many watched): say nothing rather than something wrong
        ),
      ),
    ),
    { initialValue: null },
  );
  protected readonly status = computed(() => {
    const online = this.online();
    return online === null ? 'unknown' : online ? 'online' : 'offline';
  });
}
