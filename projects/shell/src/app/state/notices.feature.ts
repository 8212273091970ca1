import { createActionGroup, createFeature, createReducer, on, props, emptyProps } from '@ngrx/store';
import type { NoticeLevel } from '@payments-system/protocol';
import { RealtimeNotificationsActions } from '@payments-system/realtime/store';
import { PaymentsApiActions, SessionActions } from './payments.actions';

export interface Toast {
  readonly id: string;
  readonly level: NoticeLevel;
  readonly title: string;
  readonly message: string;
  readonly paymentId?: string;
}

export interface Banner {
  readonly message: string;
  readonly level: NoticeLevel;
  readonly receivedAt: string;
}

export interface NoticesState {
  readonly toasts: readonly Toast[];
  readonly banner: Banner | null;
}

export const NoticesActions = createActionGroup({
  source: 'Notices',
  events: {
    'Toast Dismissed': props<{ id: string }>(),
    'Toast Shown': props<{ toast: Toast }>(),
    'Banner Dismissed': emptyProps(),
  },
});

/** At most this many toasts at once; the oldest goes first. */
export const MAX_TOASTS = 4;

const initialState: NoticesState = { toasts: [], banner: null };
const push = (state: NoticesState, toast: Toast): NoticesState => ({
  ...state,
  toasts: [...state.toasts.filter((t) => t.id !== toast.id), toast].slice(-MAX_TOASTS),
});
let localToastSeq = 0;

export const noticesFeature = createFeature({
  name: 'notices',
  reducer: createReducer(
    initialState,
    on(SessionActions.signedOut, () => initialState),
    on(RealtimeNotificationsActions.notificationReceived, (state, { notification }) =>
      push(state, {
        id: notification.notificationId,
        level: notification.level,
        title: notification.title,
        message: notification.message,
        paymentId: notification.paymentId,
      }),
    ),
    on(NoticesActions.toastShown, (state, { toast }) => push(state, toast)),
    on(PaymentsApiActions.statusChangeFailed, (state, { message }) =>
      push(state, { id: `local-${++localToastSeq}`, level: 'error', title: 'Status not changed', message }),
    ),
    on(NoticesActions.toastDismissed, (state, { id }) => ({ ...state, toasts: state.toasts.filter((t) => t.id !== id) })),
    on(RealtimeNotificationsActions.broadcastReceived, (state, { broadcast }) => ({
      ...state,
      banner: { message: broadcast.message, level: broadcast.level, receivedAt: new Date().toISOString() },
    })),
    on(NoticesActions.bannerDismissed, (state) => ({ ...state, banner: null })),
  ),
});
