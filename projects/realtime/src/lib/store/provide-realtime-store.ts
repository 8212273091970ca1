import { makeEnvironmentProviders, type EnvironmentProviders } from '@angular/core';
import { provideEffects } from '@ngrx/effects';
import { provideState } from '@ngrx/store';
import { realtimeConnectionFeature } from './connection.feature';
import { realtimeEffects } from './effects';
import { realtimePaymentsFeature } from './payments.feature';

/**
 * Registers the realtime features (connection, payments) and their effects.
 * Needs `provideStore()` and `provideRealtime()` in the same or a parent environment.
 */
export function provideRealtimeStore(): EnvironmentProviders {
  return makeEnvironmentProviders([
    provideState(realtimeConnectionFeature),
    provideState(realtimePaymentsFeature),
    provideEffects(realtimeEffects),
  ]);
}
