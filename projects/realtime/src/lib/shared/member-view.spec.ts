import fc from 'fast-check';
import { canTransition, type RealtimeConnectionSnapshot, type RealtimeConnectionState } from '../connection/connection-state';
import { pathTo, type MemberTarget } from './member-view';

const STATES: RealtimeConnectionState[] = ['connecting', 'connected', 'reconnecting', 'disconnected'];

/** Snapshots a transport can be in: attempts and retry times only while reconnecting. */
const snapshot = fc.constantFrom(...STATES).chain((state) =>
  state === 'reconnecting'
    ? fc.record({ state: fc.constant(state), attempt: fc.nat(10), nextRetryAt: fc.option(fc.nat(1e6), { nil: null }) })
    : fc.constant<RealtimeConnectionSnapshot>({ state, attempt: 0, nextRetryAt: null }),
);

describe("member view: the owner's state along a lone tab's transitions", () => {
  it('only takes allowed steps, and ends where the owner is (property)', () => {
    const target: fc.Arbitrary<MemberTarget> = fc.oneof(snapshot, fc.constant('waiting' as const));
    fc.assert(
      fc.property(snapshot, target, (current, goal) => {
        let at = current;
        for (const step of pathTo(current, goal)) {
          expect(canTransition(at.state, step.state)).withContext(`${at.state} → ${step.state}`).toBeTrue();
          at = step;
        }
        if (goal === 'waiting') {
          // Waiting for an owner: retrying for a tab that was live or retrying, connecting otherwise.
          expect(at.state).toBe(current.state === 'connected' || current.state === 'reconnecting' ? 'reconnecting' : 'connecting');
        } else if (goal.state === 'connecting' && (current.state === 'connected' || current.state === 'reconnecting')) {
          expect(at.state).toBe('reconnecting'); // a lone tab never goes from connected to connecting either
        } else {
          expect(at).toEqual(goal);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('goes through connecting to reach a live owner from disconnected', () => {
    expect(pathTo({ state: 'disconnected', attempt: 0, nextRetryAt: null }, { state: 'connected', attempt: 0, nextRetryAt: null }).map((s) => s.state)).toEqual([
      'connecting',
      'connected',
    ]);
  });

  it('shows a member whose owner left as reconnecting, and keeps the attempt it showed', () => {
    expect(pathTo({ state: 'connected', attempt: 0, nextRetryAt: null }, 'waiting')).toEqual([{ state: 'reconnecting', attempt: 0, nextRetryAt: null }]);
    expect(pathTo({ state: 'reconnecting', attempt: 3, nextRetryAt: 5 }, 'waiting')).toEqual([{ state: 'reconnecting', attempt: 3, nextRetryAt: null }]);
  });
});
