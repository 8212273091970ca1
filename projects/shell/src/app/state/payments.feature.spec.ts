import { RealtimePaymentsActions } from '@payments-system/realtime/store';
import { payment } from '../../testing/fakes';
import { PaymentsApiActions, PaymentsPageActions, PaymentsUiActions, SessionActions } from './payments.actions';
import { paymentsFeature, type PaymentsState } from './payments.feature';

const reducer = paymentsFeature.reducer;
const all = (state: PaymentsState) => paymentsFeature.selectAll({ payments: state });
const live = (p: ReturnType<typeof payment>, previousStatus?: ReturnType<typeof payment>['status']) =>
  RealtimePaymentsActions.paymentUpdated({ payment: { ...p, ...(previousStatus && { previousStatus }) }, eventId: '1', receivedAt: p.updatedAt });

describe('payments reducer', () => {
  const loaded = () =>
    reducer(
      reducer(undefined, PaymentsPageActions.opened()),
      PaymentsApiActions.loadSucceeded({
        payments: [
          payment({ paymentId: 'pay_old', createdAt: '2026-01-01T09:00:00.000Z', updatedAt: '2026-01-01T09:00:00.000Z' }),
          payment({ paymentId: 'pay_new', createdAt: '2026-01-01T10:00:00.000Z' }),
        ],
      }),
    );

  it('loads the list newest first, without highlights', () => {
    const state = loaded();
    expect(state.loading).toBeFalse();
    expect(all(state).map((p) => p.paymentId)).toEqual(['pay_new', 'pay_old']);
    expect(all(state).every((p) => p.changeId === null)).toBeTrue();
  });

  it('applies a live status change and marks the row as changed, with the status before', () => {
    const state = reducer(loaded(), live(payment({ paymentId: 'pay_old', status: 'processing', updatedAt: '2026-01-01T10:05:00.000Z' }), 'pending'));
    const row = all(state).find((p) => p.paymentId === 'pay_old')!;
    expect(row.status).toBe('processing');
    expect(row.previousStatus).toBe('pending');
    expect(row.changeId).toBe('pay_old@2026-01-01T10:05:00.000Z');
  });

  it('adds a payment that appears live (an admin sees a new customer payment)', () => {
    const state = reducer(loaded(), live(payment({ paymentId: 'pay_live', createdAt: '2026-01-01T11:00:00.000Z', updatedAt: '2026-01-01T11:00:00.000Z' })));
    expect(all(state)[0]).toEqual(jasmine.objectContaining({ paymentId: 'pay_live', status: 'pending' }));
    expect(all(state)[0]!.changeId).not.toBeNull();
  });

  it('ignores an update older than what it has (HTTP answer and socket event race)', () => {
    let state = reducer(loaded(), live(payment({ paymentId: 'pay_new', status: 'completed', updatedAt: '2026-01-01T10:10:00.000Z' })));
    state = reducer(state, PaymentsApiActions.statusChangeSucceeded({ payment: payment({ paymentId: 'pay_new', status: 'processing', updatedAt: '2026-01-01T10:05:00.000Z' }) }));
    expect(all(state).find((p) => p.paymentId === 'pay_new')!.status).toBe('completed');
  });

  it('keeps a live update newer than a list loaded after it', () => {
    let state = reducer(undefined, PaymentsPageActions.opened());
    state = reducer(state, live(payment({ status: 'processing', updatedAt: '2026-01-01T10:05:00.000Z' })));
    state = reducer(state, PaymentsApiActions.loadSucceeded({ payments: [payment()] }));
    expect(all(state)[0]!.status).toBe('processing');
  });

  it('ends the highlight of the matching change only', () => {
    let state = reducer(loaded(), live(payment({ paymentId: 'pay_old', status: 'processing', updatedAt: '2026-01-01T10:05:00.000Z' })));
    state = reducer(state, PaymentsUiActions.highlightExpired({ paymentId: 'pay_old', changeId: 'stale' }));
    expect(all(state).find((p) => p.paymentId === 'pay_old')!.changeId).not.toBeNull();
    state = reducer(state, PaymentsUiActions.highlightExpired({ paymentId: 'pay_old', changeId: 'pay_old@2026-01-01T10:05:00.000Z' }));
    expect(all(state).find((p) => p.paymentId === 'pay_old')!.changeId).toBeNull();
  });

  it('tracks status changes in flight and their refusals, and counts by status', () => {
    let state = reducer(loaded(), PaymentsPageActions.statusChangeSubmitted({ paymentId: 'pay_new', status: 'processing' }));
    expect(state.pendingStatus).toEqual({ pay_new: 'processing' });
    state = reducer(state, PaymentsApiActions.statusChangeFailed({ paymentId: 'pay_new', message: 'Cannot move' }));
    expect(state.pendingStatus).toEqual({});
    expect(state.statusErrors).toEqual({ pay_new: 'Cannot move' });
    expect(paymentsFeature.selectCounts({ payments: state })).toEqual({ pending: 2, processing: 0, completed: 0, failed: 0, refunded: 0 });
  });

  it('forgets everything when the user signs out', () => {
    expect(all(reducer(loaded(), SessionActions.signedOut()))).toEqual([]);
  });
});
