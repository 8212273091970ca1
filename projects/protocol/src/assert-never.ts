/**
 * The default branch of a `switch` over a closed union (a message type, a state, an action): it only
 * compiles when every member has its own case, so adding a message type to the protocol points at
 * every dispatch that must decide what to do with it. Reaching it at run time is a bug.
 */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
