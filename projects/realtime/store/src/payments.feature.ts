import { createEntityAdapter, type EntityState } from '@ngrx/entity';
import { createFeature, createReducer, createSelector, on } from '@ngrx/store';
import type { PaymentUpdatedPayload } from '@payments-system/protocol';
import { RealtimePaymentsActions, RealtimeSessionActions } from './actions';

/** The latest known state of a payment, as pushed by the gateway. */
export interface RealtimePayment extends PaymentUpdatedPayload {
  /** The gateway's event id of the last update. */
  readonly lastEventId: string | null;
  /** When this client received the last update (ISO 8601). */
  readonly receivedAt: string;
}

export interface RealtimePaymentsState extends EntityState<RealtimePayment> {
  /** A reload (after `Recovery Failed`) is running. */
  readonly reloading: boolean;
  /** Why the last reload failed, until the next one succeeds or the session ends; `null` otherwise. */
  readonly reloadError: string | null;
}

const adapter = createEntityAdapter<RealtimePayment>({
  selectId: (payment) => payment.paymentId,
  sortComparer: false,
});

const initialState: RealtimePaymentsState = adapter.getInitialState({ reloading: false, reloadError: null });

/**
 * Payments keyed by `paymentId`; selectors `selectAll`, `selectEntities`, `selectIds`, `selectTotal`,
 * `selectPayment(id)`, `selectReloading`, `selectReloadError`. Emptied when the login session ends (a sign-out,
 * another user) or the gateway ends it (`Logout Requested`): one user's payments never outlive their session.
 */
export const realtimePaymentsFeature = createFeature({
  name: 'realtimePayments',
  reducer: createReducer(
    initialState,
    on(RealtimePaymentsActions.paymentUpdated, (state, { payment, eventId, receivedAt }) =>
      adapter.upsertOne({ ...payment, lastEventId: eventId, receivedAt }, state),
    ),
    on(RealtimePaymentsActions.paymentsReloadStarted, (state): RealtimePaymentsState => ({ ...state, reloading: true })),
    on(RealtimePaymentsActions.paymentsReloaded, (state, { payments, receivedAt }) =>
      adapter.setAll(
        payments.map((payment) => ({ ...payment, lastEventId: null, receivedAt })),
        { ...state, reloading: false, reloadError: null },
      ),
    ),
    on(RealtimePaymentsActions.paymentsReloadFailed, (state, { message }): RealtimePaymentsState => ({
      ...state,
      reloading: false,
      reloadError: message,
    })),
    on(RealtimeSessionActions.sessionEnded, RealtimeSessionActions.logoutRequested, (): RealtimePaymentsState => initialState),
  ),
  extraSelectors: ({ selectRealtimePaymentsState, selectEntities }) => ({
    ...adapter.getSelectors(selectRealtimePaymentsState),
    selectPayment: (paymentId: string) => createSelector(selectEntities, (entities) => entities[paymentId]),
  }),
});
