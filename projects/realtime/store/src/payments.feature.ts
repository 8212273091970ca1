import { createEntityAdapter, type EntityState } from '@ngrx/entity';
import { createFeature, createReducer, createSelector, on } from '@ngrx/store';
import type { PaymentUpdatedPayload } from '@payments-system/protocol';
import { RealtimePaymentsActions } from './actions';

/** The latest known state of a payment, as pushed by the gateway. */
export interface RealtimePayment extends PaymentUpdatedPayload {
  /** The gateway's event id of the last update. */
  readonly lastEventId: string | null;
  /** When this client received the last update (ISO 8601). */
  readonly receivedAt: string;
}

export type RealtimePaymentsState = EntityState<RealtimePayment>;

const adapter = createEntityAdapter<RealtimePayment>({
  selectId: (payment) => payment.paymentId,
  sortComparer: false,
});

/** Payments keyed by `paymentId`; selectors `selectAll`, `selectEntities`, `selectIds`, `selectTotal`, `selectPayment(id)`. */
export const realtimePaymentsFeature = createFeature({
  name: 'realtimePayments',
  reducer: createReducer(
    adapter.getInitialState(),
    on(RealtimePaymentsActions.paymentUpdated, (state, { payment, eventId, receivedAt }) =>
      adapter.upsertOne({ ...payment, lastEventId: eventId, receivedAt }, state),
    ),
    on(RealtimePaymentsActions.paymentsReloaded, (state, { payments, receivedAt }) =>
      adapter.setAll(
        payments.map((payment) => ({ ...payment, lastEventId: null, receivedAt })),
        state,
      ),
    ),
  ),
  extraSelectors: ({ selectRealtimePaymentsState, selectEntities }) => ({
    ...adapter.getSelectors(selectRealtimePaymentsState),
    selectPayment: (paymentId: string) => createSelector(selectEntities, (entities) => entities[paymentId]),
  }),
});
