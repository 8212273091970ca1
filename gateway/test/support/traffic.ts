/** The traffic the chaos and failover suites share: which rooms the publisher's numbers go to, and who listens. */
import type { Room } from '@payments-system/protocol';
import type { RecoveringClient } from '../scale/recovering-client.ts';

/**
 * Half the numbers go to one customer's room (`user:c00` … two numbers each in turn), the rest to
 * `role:CUSTOMER`, a payment room the admins share, and `broadcast`.
 */
export function roomMix(customers: number, sharedPayment: Room): (seq: number) => Room {
  return (seq) => {
    const slot = seq % 10;
    if (slot < 5) return `user:c${String(Math.floor(seq / 2) % customers).padStart(2, '0')}`;
    if (slot < 7) return 'role:CUSTOMER';
    if (slot < 9) return sharedPayment;
    return 'broadcast';
  };
}

/** A client and the rooms it is in: what it must receive. */
export interface Member {
  readonly client: RecoveringClient;
  readonly rooms: ReadonlySet<Room>;
}
