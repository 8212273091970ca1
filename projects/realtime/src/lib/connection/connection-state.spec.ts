import {
  canTransition,
  CONNECTED,
  CONNECTING,
  CONNECTION_TRANSITIONS,
  ConnectionStateMachine,
  DISCONNECTED,
  reconnecting,
  type RealtimeConnectionSnapshot,
  type RealtimeConnectionState,
} from './connection-state';

const STATES: readonly RealtimeConnectionState[] = ['disconnected', 'connecting', 'connected', 'reconnecting'];
/** The design, written out here independently of the implementation's table. */
const EXPECTED: { readonly [S in RealtimeConnectionState]: readonly RealtimeConnectionState[] } = {
  disconnected: ['connecting'],
  connecting: ['connected', 'reconnecting', 'disconnected'],
  connected: ['reconnecting', 'disconnected'],
  reconnecting: ['reconnecting', 'connected', 'disconnected'],
};
const SNAPSHOT: { readonly [S in RealtimeConnectionState]: RealtimeConnectionSnapshot } = {
  disconnected: DISCONNECTED,
  connecting: CONNECTING,
  connected: CONNECTED,
  reconnecting: reconnecting(1, 1000),
};

/** A machine moved into `state` along allowed transitions. */
function machineIn(state: RealtimeConnectionState): ConnectionStateMachine {
  const machine = new ConnectionStateMachine();
  const path: Record<RealtimeConnectionState, RealtimeConnectionSnapshot[]> = {
    disconnected: [],
    connecting: [CONNECTING],
    connected: [CONNECTING, CONNECTED],
    reconnecting: [CONNECTING, reconnecting(1, 1000)],
  };
  for (const step of path[state]) machine.transition(step);
  return machine;
}

describe('ConnectionStateMachine', () => {
  it('starts disconnected and replays the current snapshot', () => {
    const machine = new ConnectionStateMachine();
    const seen: RealtimeConnectionSnapshot[] = [];
    machine.changes$.subscribe((s) => seen.push(s));
    expect(machine.snapshot).toEqual(DISCONNECTED);
    expect(seen).toEqual([DISCONNECTED]);
  });

  it('allows exactly the designed transitions, and throws on every other one', () => {
    expect(CONNECTION_TRANSITIONS).toEqual(EXPECTED);
    for (const from of STATES) {
      for (const to of STATES) {
        const machine = machineIn(from);
        const next = from === to && to === 'reconnecting' ? reconnecting(2, 3000) : SNAPSHOT[to];
        const allowed = EXPECTED[from].includes(to);
        expect(canTransition(from, to)).toBe(allowed);
        if (from === to && to !== 'reconnecting') {
          expect(machine.transition(next)).withContext(`${from} → ${to} is no change`).toBeFalse();
        } else if (allowed) {
          expect(machine.transition(next)).withContext(`${from} → ${to}`).toBeTrue();
          expect(machine.state).toBe(to);
        } else {
          expect(() => machine.transition(next)).withContext(`${from} → ${to}`).toThrowError(/illegal connection transition/);
          expect(machine.state).withContext('a refused transition changes nothing').toBe(from);
        }
      }
    }
  });

  it('emits only real changes: an equal snapshot is not emitted, a new retry time is', () => {
    const machine = new ConnectionStateMachine();
    const seen: RealtimeConnectionSnapshot[] = [];
    machine.changes$.subscribe((s) => seen.push(s));
    machine.transition(CONNECTING);
    machine.transition({ ...CONNECTING });
    machine.transition(reconnecting(1, 1000));
    machine.transition(reconnecting(1, 1000));
    machine.transition(reconnecting(1, null));
    machine.transition(DISCONNECTED);
    machine.transition(DISCONNECTED);
    expect(seen).toEqual([DISCONNECTED, CONNECTING, reconnecting(1, 1000), reconnecting(1, null), DISCONNECTED]);
  });

  it('lets every state end in disconnected, and reach connected only through connecting or reconnecting', () => {
    for (const state of STATES) {
      if (state !== 'disconnected') expect(canTransition(state, 'disconnected')).toBeTrue();
    }
    expect(STATES.filter((s) => canTransition(s, 'connected'))).toEqual(['connecting', 'reconnecting']);
  });
});
