/*
 * Public API of @payments-system/realtime/testing.
 */
export { FakeWebSocket } from './fake-web-socket';
export { provideRealtimeTesting, RealtimeTestingController } from './realtime-testing';
