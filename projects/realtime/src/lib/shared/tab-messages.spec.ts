import fc from 'fast-check';
import { groupName, readTabMessage, type TabMessage } from './tab-messages';

const VALID: TabMessage[] = [
  { kind: 'status', from: 'm1', seq: 3, wants: true },
  { kind: 'write', from: 'm1', frame: '{"type":"ping"}', replay: false },
  { kind: 'probe', from: 'm1' },
  { kind: 'claim', from: 'm1', term: 12 },
  {
    kind: 'owner',
    from: 'm2',
    term: 12,
    snapshot: { state: 'reconnecting', attempt: 2, nextRetryAt: 1765447201000 },
    socket: null,
    token: 'a.b.c',
    lastEventId: '1765447200000-3',
    roster: [{ id: 'm1', wants: true, seq: 3, rooms: ['payment:p1'], watches: ['user:alice'] }],
  },
  { kind: 'frame', from: 'm2', term: 12, frame: '{}', to: ['m1'] },
  { kind: 'error', from: 'm2', term: 12, error: { kind: 'network', message: 'lost', closeCode: 1006, at: 1 } },
  { kind: 'resign', from: 'm2', term: 12 },
];

describe('tab messages: what a tab accepts from its channel', () => {
  it('accepts every message of this version, as the structured clone delivers it', () => {
    for (const message of VALID) expect(readTabMessage(structuredClone(message))).toEqual(message);
  });

  it('never throws, and returns null or a message, whatever was posted (property)', () => {
    fc.assert(
      fc.property(fc.anything(), (data) => {
        const message = readTabMessage(data);
        expect(message === null || typeof message.kind === 'string').toBeTrue();
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts a field only with a value of its type (property)', () => {
    const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
    const allowed: Record<string, readonly string[]> = {
      from: ['string'], seq: ['number'], wants: ['boolean'], frame: ['string'], replay: ['boolean'], term: ['number'],
      snapshot: ['object'], socket: ['string', 'null'], token: ['string', 'null'], lastEventId: ['string', 'null'],
      roster: ['array'], to: ['array', 'null'], error: ['object'],
    };
    fc.assert(
      fc.property(fc.constantFrom(...VALID), fc.anything(), fc.nat(), (message, junk, pick) => {
        const fields = Object.keys(message).filter((k) => k !== 'kind');
        const field = fields[pick % fields.length]!;
        const read = readTabMessage({ ...message, [field]: junk });
        if (read !== null) expect(allowed[field]).withContext(`${message.kind}.${field} = ${JSON.stringify(junk)}`).toContain(kind(junk));
      }),
      { numRuns: 1000 },
    );
  });

  it('names a group by gateway and login session, without showing either', () => {
    const a = groupName('/ws', 'sid:s1');
    expect(a).toBe(groupName('/ws', 'sid:s1'));
    expect(a).not.toBe(groupName('/ws', 'sid:s2'));
    expect(a).not.toBe(groupName('wss://other/ws', 'sid:s1'));
    expect(a).not.toContain('s1');
  });
});
