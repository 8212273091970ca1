import { createFeature, createReducer, createSelector, on } from '@ngrx/store';
import type { RealtimeConnectionState, RealtimeError } from '@payments-system/realtime';
import { RealtimeConnectionActions } from './actions';

export interface RealtimeConnectionStoreState {
  readonly state: RealtimeConnectionState;
  readonly attempt: number;
  readonly nextRetryAt: number | null;
  readonly lastError: RealtimeError | null;
}

const initialState: RealtimeConnectionStoreState = {
  state: 'disconnected',
  attempt: 0,
  nextRetryAt: null,
  lastError: null,
};

/** The connection as NgRx state: `selectState`, `selectAttempt`, `selectNextRetryAt`, `selectLastError`, `selectIsConnected`. */
export const realtimeConnectionFeature = createFeature({
  name: 'realtimeConnection',
  reducer: createReducer(
    initialState,
    on(RealtimeConnectionActions.stateChanged, (current, { snapshot }) => ({
      ...current,
      ...snapshot,
      lastError: snapshot.state === 'connected' ? null : current.lastError,
    })),
    on(RealtimeConnectionActions.errorReported, (current, { error }) => ({ ...current, lastError: error })),
  ),
  extraSelectors: ({ selectState }) => ({
    selectIsConnected: createSelector(selectState, (state) => state === 'connected'),
  }),
});
