/*
 * Public API of @payments-system/realtime/store: the NgRx features, actions and effects (needs @ngrx/store,
 * @ngrx/effects and @ngrx/entity). Apps that use only RealtimeService never import it and bundle no NgRx.
 */
export {
  RealtimeConnectionActions,
  RealtimeNotificationsActions,
  RealtimePaymentsActions,
  RealtimeRoomsActions,
  RealtimeSessionActions,
} from './actions';
export { realtimeConnectionFeature, type RealtimeConnectionStoreState } from './connection.feature';
export { realtimePaymentsFeature, type RealtimePayment, type RealtimePaymentsState } from './payments.feature';
export { realtimeEffects, type RealtimePaymentsLoader } from './effects';
export { provideRealtimeStore, type RealtimeStoreOptions } from './provide-realtime-store';
