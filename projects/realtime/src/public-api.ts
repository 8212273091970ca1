/*
 * Public API Surface of realtime
 */

export * from './lib/realtime';
