/**
 * The Redis store's encodings, without Redis: members lists round-trip, and decoding whatever a
 * channel or a hash holds is total (a malformed entry is dropped, never thrown on or let through).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ID_PATTERN, isPresenceRoom, ROLES } from '@payments-system/protocol';
import { decodeChange, decodeMembers, encodeMembers, presenceHeartbeatMs } from './redis-presence-store.ts';

const id = fc.stringMatching(/^[A-Za-z0-9_.@-]{1,20}$/);
const member = fc.record({ userId: id, role: fc.constantFrom(...ROLES), connections: fc.integer({ min: 1, max: 1000 }) });

describe('redis presence encodings', () => {
  it('round-trips a gateway’s members of a room', () => {
    fc.assert(
      fc.property(fc.uniqueArray(member, { selector: (m) => m.userId, maxLength: 20 }), (members) => {
        assert.deepEqual(decodeMembers(encodeMembers(members)), members.map((m) => ({ ...m })));
      }),
    );
  });

  it('decodes changes, and nothing that is not one', () => {
    assert.deepEqual(decodeChange('joined user:alice alice CUSTOMER'), { change: 'joined', room: 'user:alice', userId: 'alice', role: 'CUSTOMER' });
    assert.deepEqual(decodeChange('left payment:p1 admin_1'), { change: 'left', room: 'payment:p1', userId: 'admin_1' });
    for (const bad of ['', 'joined user:alice alice', 'joined role:ADMIN a ADMIN', 'left user:alice alice ADMIN', 'joined user:a a KING', 'gone user:a a', 'left user:a a b c']) {
      assert.equal(decodeChange(bad), undefined, bad);
    }
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (text) => {
        const change = decodeChange(text);
        if (change !== undefined) assert.ok(isPresenceRoom(change.room) && ID_PATTERN.test(change.userId));
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        for (const m of decodeMembers(text)) assert.ok(ID_PATTERN.test(m.userId) && m.connections > 0);
      }),
    );
  });

  it('heartbeats four times per deadline, between 100 ms and 4 s', () => {
    assert.equal(presenceHeartbeatMs(40_000), 4000);
    assert.equal(presenceHeartbeatMs(1500), 375);
    assert.equal(presenceHeartbeatMs(150), 100);
  });
});
