import { createEntityAdapter, type EntityState } from '@ngrx/entity';
import { createFeature, createReducer, createSelector, on } from '@ngrx/store';
import type { Payment, PaymentStatus } from '@payments-system/protocol';
import { RealtimePaymentsActions } from '@payments-system/realtime/store';
import { PaymentsApiActions, PaymentsPageActions, PaymentsUiActions, SessionActions } from './payments.actions';

/** A row of the dashboard: the payment, and what last changed about it. */
export interface PaymentRow extends Payment {
  /** The status before the last live change, while the change is highlighted. */
  readonly previousStatus?: PaymentStatus;
  /** Identifies the last live change; set while the row is highlighted, null otherwise. */
  readonly changeId: string | null;
}

export interface PaymentsState extends EntityState<PaymentRow> {
  readonly loading: boolean;
  readonly loadError: string | null;
  readonly creating: boolean;
  readonly createError: string | null;
  /** paymentId → status change in flight. */
  readonly pendingStatus: Readonly<Record<string, PaymentStatus>>;
  /** paymentId → last refused status change. */
  readonly statusErrors: Readonly<Record<string, string>>;
}

const byNewest = (a: PaymentRow, b: PaymentRow) =>
  b.createdAt.localeCompare(a.createdAt) || b.paymentId.localeCompare(a.paymentId);
const adapter = createEntityAdapter<PaymentRow>({ selectId: (p) => p.paymentId, sortComparer: byNewest });

const initialState: PaymentsState = adapter.getInitialState({
  loading: false,
  loadError: null,
  creating: false,
  createError: null,
  pendingStatus: {},
  statusErrors: {},
});

/** True when `next` is not older than `current` (updates may arrive twice: over HTTP and over the socket). */
function isNewer(current: Payment | undefined, next: { updatedAt?: string }): boolean {
  return !current || !next.updatedAt || next.updatedAt >= current.updatedAt;
}

function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const { [key]: _removed, ...rest } = record;
  return rest;
}

/**
 * Upserts a payment that changed or appeared while the dashboard is open, marking the row as just changed
 * (new, or another status). `hint` is the status before, when the event says so.
 */
function applyPayment(state: PaymentsState, payment: Payment, hint?: PaymentStatus): PaymentsState {
  const current = state.entities[payment.paymentId];
  if (!isNewer(current, payment)) return state;
  const changed = current === undefined || current.status !== payment.status;
  const row: PaymentRow = changed
    ? { ...payment, previousStatus: current?.status ?? hint, changeId: `${payment.paymentId}@${payment.updatedAt}` }
    : { ...payment, previousStatus: current.previousStatus, changeId: current.changeId };
  return adapter.upsertOne(row, state);
}

export const paymentsFeature = createFeature({
  name: 'payments',
  reducer: createReducer(
    initialState,
    on(SessionActions.signedOut, SessionActions.signedIn, () => initialState),
    on(PaymentsPageActions.opened, PaymentsUiActions.resyncRequested, (state) => ({ ...state, loading: true, loadError: null })),
    on(PaymentsApiActions.loadSucceeded, (state, { payments }) => {
      // The server's list is the truth, except where a live update already brought something newer.
      const rows = payments.map((p): PaymentRow => {
        const current = state.entities[p.paymentId];
        if (current && !isNewer(current, p)) return current;
        return { ...p, previousStatus: current?.previousStatus, changeId: current?.changeId ?? null };
      });
      return adapter.setAll(rows, { ...state, loading: false, loadError: null });
    }),
    on(PaymentsApiActions.loadFailed, (state, { message }) => ({ ...state, loading: false, loadError: message })),
    on(PaymentsPageActions.createSubmitted, (state) => ({ ...state, creating: true, createError: null })),
    on(PaymentsApiActions.createSucceeded, (state, { payment }) =>
      applyPayment({ ...state, creating: false, createError: null }, payment),
    ),
    on(PaymentsApiActions.createFailed, (state, { message }) => ({ ...state, creating: false, createError: message })),
    on(PaymentsPageActions.statusChangeSubmitted, (state, { paymentId, status }) => ({
      ...state,
      pendingStatus: { ...state.pendingStatus, [paymentId]: status },
      statusErrors: without(state.statusErrors, paymentId),
    })),
    on(PaymentsApiActions.statusChangeSucceeded, (state, { payment }) =>
      applyPayment({ ...state, pendingStatus: without(state.pendingStatus, payment.paymentId) }, payment),
    ),
    on(PaymentsApiActions.statusChangeFailed, (state, { paymentId, message }) => ({
      ...state,
      pendingStatus: without(state.pendingStatus, paymentId),
      statusErrors: { ...state.statusErrors, [paymentId]: message },
    })),
    on(RealtimePaymentsActions.paymentUpdated, (state, { payment }) => {
      const current = state.entities[payment.paymentId];
      // Live events carry the whole payment; fill what an older gateway might leave out from what we know.
      const merged: Payment = {
        ownerId: payment.ownerId ?? current?.ownerId ?? '',
        description: payment.description ?? current?.description ?? '',
        createdAt: payment.createdAt ?? current?.createdAt ?? new Date().toISOString(),
        updatedAt: payment.updatedAt ?? new Date().toISOString(),
        paymentId: payment.paymentId,
        amount: payment.amount,
        currency: payment.currency,
        status: payment.status,
      };
      return applyPayment(state, merged, payment.previousStatus);
    }),
    on(PaymentsUiActions.highlightExpired, (state, { paymentId, changeId }) =>
      state.entities[paymentId]?.changeId === changeId
        ? adapter.updateOne({ id: paymentId, changes: { changeId: null, previousStatus: undefined } }, state)
        : state,
    ),
  ),
  extraSelectors: ({ selectPaymentsState }) => {
    const { selectAll, selectTotal } = adapter.getSelectors(selectPaymentsState);
    return {
      selectAll,
      selectTotal,
      selectCounts: createSelector(selectAll, (rows) => {
        const counts: Record<PaymentStatus, number> = { pending: 0, processing: 0, completed: 0, failed: 0, refunded: 0 };
        for (const row of rows) counts[row.status]++;
        return counts;
      }),
    };
  },
});
