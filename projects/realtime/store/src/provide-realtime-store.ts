import { makeEnvironmentProviders, type EnvironmentProviders } from '@angular/core';
import { provideEffects } from '@ngrx/effects';
import { provideState } from '@ngrx/store';
import { realtimeConnectionFeature } from './connection.feature';
import { realtimeEffects, ɵREALTIME_RELOAD_PAYMENTS, type RealtimePaymentsLoader } from './effects';
import { realtimePaymentsFeature } from './payments.feature';

export interface RealtimeStoreOptions {
  /**
   * Reloads the payments when the gateway cannot replay what a reconnect missed (`Recovery Failed`).
   * Without it, the app handles `RealtimeConnectionActions.recoveryFailed` itself.
   */
  readonly reloadPayments?: RealtimePaymentsLoader;
}

/**
 * Registers the realtime features (connection, payments) and their effects.
 * Needs `provideStore()` and `provideRealtime()` in the same or a parent environment.
 */
export function provideRealtimeStore(options: RealtimeStoreOptions = {}): EnvironmentProviders {
  return makeEnvironmentProviders([
    ...(options.reloadPayments ? [{ provide: ɵREALTIME_RELOAD_PAYMENTS, useValue: options.reloadPayments }] : []),
    provideState(realtimeConnectionFeature),
    provideState(realtimePaymentsFeature),
    provideEffects(realtimeEffects),
  ]);
}
