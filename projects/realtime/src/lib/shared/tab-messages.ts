/**
 * What the tabs of one login session say to each other on their channel (a `BroadcastChannel`), written down once.
 *
 * Members (every `RealtimeService` of the browser that shares the connection) tell the owner what they want; the
 * owner (the member that holds the socket) tells every member what the socket does. Client and server messages
 * travel as the JSON text of the wire protocol and are parsed on arrival with the protocol's own parsers, so a tab
 * trusts nothing another one sends more than it trusts the gateway. Anything on the channel that is not one of these
 * messages (another version of the library, a stray script) is ignored: {@link readTabMessage} returns `null`.
 */
import { isPresenceRoom, isRoom, type PresenceRoom, type Room } from '@payments-system/protocol';
import type { RealtimeConnectionSnapshot, RealtimeConnectionState } from '../connection/connection-state';
import type { RealtimeError, RealtimeErrorKind } from '../errors';

/** Bumped whenever a message changes shape: tabs running another version of the library use another channel. */
export const TAB_PROTOCOL_VERSION = 1;

/** One member as the owner knows it. */
export interface RosterEntry {
  readonly id: string;
  /** The member wants a connection (`connect()` called, `disconnect()` not). */
  readonly wants: boolean;
  /** The member's latest status number the owner has processed (see {@link MemberMessage} `status`). */
  readonly seq: number;
  /** Rooms the member asked the socket to join (`subscribe`), beyond the socket's handshake rooms. */
  readonly rooms: readonly Room[];
  /** Rooms whose presence the member watches (`presence {watch: true}`). */
  readonly watches: readonly PresenceRoom[];
}

/** A member to the owner (every member hears it; only the owner acts on most). */
export type MemberMessage =
  /** Joined the group, wants or stops wanting the connection, or greets a new owner. */
  | { readonly kind: 'status'; readonly from: string; readonly seq: number; readonly wants: boolean }
  /**
   * A client message for the socket, as JSON text. `replay`: a `resume` the member needs answered by the gateway
   * (it missed events while it was away); other `resume`s are covered by the owner's own.
   */
  | { readonly kind: 'write'; readonly from: string; readonly frame: string; readonly replay: boolean }
  | { readonly kind: 'reconnect'; readonly from: string }
  /** Are you there? (the owner was quiet for a while) */
  | { readonly kind: 'probe'; readonly from: string }
  /** Left the group (the tab closes, its login session changed, the service was destroyed). */
  | { readonly kind: 'leave'; readonly from: string }
  /** The member's token became empty: the login session is over, for every tab of it. */
  | { readonly kind: 'sign-out'; readonly from: string }
  /** Fallback election (no Web Locks): wants to own the socket from `term` on. */
  | { readonly kind: 'claim'; readonly from: string; readonly term: number };

/** The owner to the members. `term` orders owners: a member follows the highest it has seen. */
export type OwnerMessage =
  /** Everything a member needs to know: sent on every change, and to answer a status or a probe. */
  | {
      readonly kind: 'owner';
      readonly from: string;
      readonly term: number;
      readonly snapshot: RealtimeConnectionSnapshot;
      /** Identifies the open socket (`null` while none is open): a member that sees it change re-joins its rooms. */
      readonly socket: string | null;
      /** The token the socket uses, so that the next owner starts with it (one refresh for every tab). */
      readonly token: string | null;
      /** The newest room event id the owner delivered (a member that just joined resumes from here if it owns next). */
      readonly lastEventId: string | null;
      readonly roster: readonly RosterEntry[];
    }
  /** A server message (JSON text) for the members in `to`, or for every member when `null`. */
  | { readonly kind: 'frame'; readonly from: string; readonly term: number; readonly frame: string; readonly to: readonly string[] | null }
  | { readonly kind: 'error'; readonly from: string; readonly term: number; readonly error: RealtimeError }
  /** The owner gives the socket up (its tab closes or is about to be frozen, its session changed). */
  | { readonly kind: 'resign'; readonly from: string; readonly term: number };

export type TabMessage = MemberMessage | OwnerMessage;

/** Kinds of message a member sends, as opposed to the owner's. */
export function isMemberMessage(message: TabMessage): message is MemberMessage {
  return !('term' in message) || message.kind === 'claim';
}

type Fields = Readonly<Record<string, unknown>>;

const STATES: readonly RealtimeConnectionState[] = ['connecting', 'connected', 'reconnecting', 'disconnected'];
const ERROR_KINDS: readonly RealtimeErrorKind[] = ['network', 'auth', 'protocol', 'closed-by-server'];

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNullable = <T>(v: unknown, is: (x: unknown) => x is T): v is T | null => v === null || is(v);
const isStrings = (v: unknown): v is readonly string[] => Array.isArray(v) && v.every(isString);

function isSnapshot(v: unknown): v is RealtimeConnectionSnapshot {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Fields;
  return STATES.includes(s['state'] as RealtimeConnectionState) && isCount(s['attempt']) && isNullable(s['nextRetryAt'], isTime);
}

function isError(v: unknown): v is RealtimeError {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Fields;
  return (
    ERROR_KINDS.includes(e['kind'] as RealtimeErrorKind) &&
    isString(e['message']) &&
    isTime(e['at']) &&
    (e['closeCode'] === undefined || isCount(e['closeCode']))
  );
}

function isRosterEntry(v: unknown): v is RosterEntry {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Fields;
  return (
    isString(r['id']) &&
    typeof r['wants'] === 'boolean' &&
    isCount(r['seq']) &&
    Array.isArray(r['rooms']) &&
    r['rooms'].every(isRoom) &&
    Array.isArray(r['watches']) &&
    r['watches'].every(isPresenceRoom)
  );
}

/** The message `data` carries, or `null` when it is not a message of this version (ignored, never thrown). */
export function readTabMessage(data: unknown): TabMessage | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  const m = data as Fields;
  if (!isString(m['from'])) return null;
  const owner = isCount(m['term']);
  switch (m['kind']) {
    case 'status':
      return isCount(m['seq']) && typeof m['wants'] === 'boolean' ? (m as unknown as MemberMessage) : null;
    case 'write':
      return isString(m['frame']) && typeof m['replay'] === 'boolean' ? (m as unknown as MemberMessage) : null;
    case 'reconnect':
    case 'probe':
    case 'leave':
    case 'sign-out':
      return m as unknown as MemberMessage;
    case 'claim':
      return owner ? (m as unknown as MemberMessage) : null;
    case 'owner':
      return owner &&
        isSnapshot(m['snapshot']) &&
        isNullable(m['socket'], isString) &&
        isNullable(m['token'], isString) &&
        isNullable(m['lastEventId'], isString) &&
        Array.isArray(m['roster']) &&
        m['roster'].every(isRosterEntry)
        ? (m as unknown as OwnerMessage)
        : null;
    case 'frame':
      return owner && isString(m['frame']) && (m['to'] === null || isStrings(m['to'])) ? (m as unknown as OwnerMessage) : null;
    case 'error':
      return owner && isError(m['error']) ? (m as unknown as OwnerMessage) : null;
    case 'resign':
      return owner ? (m as unknown as OwnerMessage) : null;
    default:
      return null;
  }
}

/**
 * The name of the channel (and the prefix of the locks) of the tabs that may share a socket: one gateway URL, one
 * login session (`loginSessionOf` of the token). Hashed, so that no token or user id appears in lock names; a member
 * still checks that the owner's token belongs to its own session before it follows it.
 */
export function groupName(url: string, session: string): string {
  return `payments-realtime:${TAB_PROTOCOL_VERSION}:${hash53(`${url}\n${session}`)}`;
}

/** cyrb53: a fast 53-bit string hash (not cryptographic; the session check above guards against collisions). */
function hash53(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}
