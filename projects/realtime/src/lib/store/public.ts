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
