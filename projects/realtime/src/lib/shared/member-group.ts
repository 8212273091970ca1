/** What a member knows of the group it belongs to: the group of its login session, on one channel. */
import type { Subscription } from 'rxjs';
import type { ConnectionOwner } from './connection-owner';
import type { MemberPresence, OwnerElection } from './owner-election';
import type { TabChannel } from './tab-channel';
import type { OwnerMessage } from './tab-messages';

export type Announcement = Extract<OwnerMessage, { kind: 'owner' }>;

export interface Group {
  readonly name: string;
  readonly session: string;
  readonly channel: TabChannel;
  readonly election: OwnerElection;
  readonly presence: MemberPresence | null;
  readonly subscriptions: Subscription;
  /** The owner this member follows (its latest announcement), or `null` while waiting for one. */
  owner: Announcement | null;
  /** The latest announcement of any owner: a new owner starts from its roster and token. */
  last: Announcement | null;
  /** Owners below this term are not followed (one that stopped answering, should it wake up). */
  floor: number;
  /** Set while this member owns the socket. */
  local: { readonly owner: ConnectionOwner; readonly term: number } | null;
  /** Present (its presence is visible to the owner) and greeted. */
  entered: boolean;
  heardAt: number;
  probe: { readonly at: number; readonly patience: number } | null;
  /** The newest room event id seen on the channel, whoever it was for. */
  maxSeen: string | null;
}
