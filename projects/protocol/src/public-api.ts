/*
 * Public API of @payments-system/protocol.
 */
export * from './assert-never.js';
export * from './constants.js';
export * from './rooms.js';
export * from './event-ids.js';
export * from './close-codes.js';
export * from './error-codes.js';
export * from './messages.js';
export * from './auth.js';
export * from './payments.js';
export * from './parse.js';
