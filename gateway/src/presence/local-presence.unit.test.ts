/**
 * This gateway's presence counts against a plain model, over any sequence of sockets entering and
 * leaving rooms (fast-check): the lists, the counts each call returns, and no room kept empty.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { PresenceRoom, Role } from '@payments-system/protocol';
import { LocalPresence } from './local-presence.ts';

const ROOMS: PresenceRoom[] = ['user:a', 'user:b', 'payment:p'];
const USERS: Array<[string, Role]> = [['a', 'CUSTOMER'], ['b', 'CUSTOMER'], ['admin', 'ADMIN']];

describe('LocalPresence', () => {
  it('agrees with a model of counts per room and user, whatever the order of entries and exits', () => {
    const step = fc.record({ add: fc.boolean(), room: fc.constantFrom(...ROOMS), user: fc.constantFrom(...USERS) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const local = new LocalPresence();
        const model = new Map<string, number>();
        for (const { add, room, user: [userId, role] } of steps) {
          const key = `${room} ${userId}`;
          const before = model.get(key) ?? 0;
          if (add) {
            assert.equal(local.add(room, userId, role), before);
            model.set(key, before + 1);
          } else {
            assert.equal(local.remove(room, userId), before);
            if (before > 1) model.set(key, before - 1);
            else model.delete(key);
          }
        }
        for (const room of ROOMS) {
          const expected = USERS.flatMap(([userId, role]) => {
            const connections = model.get(`${room} ${userId}`);
            return connections ? [{ userId, role, connections }] : [];
          });
          const listed = [...local.list(room)].sort((x, y) => x.userId.localeCompare(y.userId));
          assert.deepEqual(listed.map((m) => ({ ...m })), expected.sort((x, y) => x.userId.localeCompare(y.userId)));
        }
        assert.equal(local.size, new Set([...model.keys()].map((key) => key.split(' ')[0])).size);
        assert.deepEqual(new Set(local.rooms()), new Set([...model.keys()].map((key) => key.split(' ')[0])));
      }),
      { numRuns: 300 },
    );
  });
});
