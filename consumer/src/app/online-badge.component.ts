import { Component, inject, input } from '@angular/core';
import { toObservable, toSignal } from '@angular/core/rxjs-interop';
import { userRoom } from '@payments-system/protocol';
import { RealtimeService } from '@payments-system/realtime';
import { map, switchMap } from 'rxjs';

// Is a customer online? For an admin's view: a user may watch only the rooms they may join.
@Component({ selector: 'app-online-badge', template: `{{ online() ? 'online' : 'offline' }}` })
export class OnlineBadgeComponent {
  readonly userId = input.required<string>();
  private readonly realtime = inject(RealtimeService);
  protected readonly online = toSignal(
    toObservable(this.userId).pipe(
      // Watched while shown (one watch however many badges show one user), asked again after each reconnect.
      switchMap((id) => this.realtime.presence$(userRoom(id)).pipe(map((members) => members.length > 0))),
    ),
    { initialValue: false },
  );
}
