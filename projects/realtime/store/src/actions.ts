import { createActionGroup, emptyProps, props } from '@ngrx/store';
import type {
  NotificationPayload,
  PaymentUpdatedPayload,
  RecoveryFailedPayload,
  Room,
  SessionSyncPayload,
  SystemBroadcastPayload,
} from '@payments-system/protocol';
import type { RealtimeConnectionSnapshot, RealtimeError } from '@payments-system/realtime';

/** Events about the connection itself. */
export const RealtimeConnectionActions = createActionGroup({
  source: 'Realtime/Connection',
  events: {
    'State Changed': props<{ snapshot: RealtimeConnectionSnapshot }>(),
    'Error Reported': props<{ error: RealtimeError }>(),
    /** After a reconnect the gateway replayed every missed event: the store is complete again. */
    Resumed: props<{ since: string; replayed: number }>(),
    /** After a reconnect the gateway could not replay what was missed: reload state over HTTP. */
    'Recovery Failed': props<{ since: string; reason: RecoveryFailedPayload['reason'] }>(),
  },
});

/** Payment events received from the gateway. */
export const RealtimePaymentsActions = createActionGroup({
  source: 'Realtime/Payments',
  events: {
    'Payment Updated': props<{ payment: PaymentUpdatedPayload; eventId: string | null; receivedAt: string }>(),
    /** The payments reloaded over HTTP after `Recovery Failed` (see `provideRealtimeStore({ reloadPayments })`). */
    /** The loader started (after `Recovery Failed`): `selectReloading` is true until it ends. */
    'Payments Reload Started': emptyProps(),
    'Payments Reloaded': props<{ payments: readonly PaymentUpdatedPayload[]; receivedAt: string }>(),
    /** The loader failed: `selectReloadError` holds its message until the next reload or session. */
    'Payments Reload Failed': props<{ message: string }>(),
  },
});

/**
 * The login session. `Logout Requested`: the gateway says the user's session ended elsewhere (`session:sync`); the
 * host app's auth should clear its token and navigate to its login page. `Session Ended`: the service's token became
 * empty or belongs to another session (`RealtimeService.sessionEnded$`); the realtime state of the old one is dropped.
 */
export const RealtimeSessionActions = createActionGroup({
  source: 'Realtime/Session',
  events: {
    'Logout Requested': props<{ session: SessionSyncPayload }>(),
    'Session Ended': emptyProps(),
  },
});

/** Notices received from the gateway, for the app to show. */
export const RealtimeNotificationsActions = createActionGroup({
  source: 'Realtime/Notifications',
  events: {
    'Notification Received': props<{ notification: NotificationPayload }>(),
    'Broadcast Received': props<{ broadcast: SystemBroadcastPayload }>(),
  },
});

/** Commands from the app (`Watch Room`, `Unwatch Room`) and their outcomes. */
export const RealtimeRoomsActions = createActionGroup({
  source: 'Realtime/Rooms',
  events: {
    'Watch Room': props<{ room: Room }>(),
    'Unwatch Room': props<{ room: Room }>(),
    'Room Subscribed': props<{ room: Room }>(),
    'Room Unsubscribed': props<{ room: Room }>(),
    'Room Request Failed': props<{ room: Room; code: string; message: string }>(),
    'Disconnect Requested': emptyProps(),
  },
});
