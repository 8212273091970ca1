/** Reading positions in the bus's one total order: the time in an id, and merging rooms' histories. */
import { compareEventIds } from '@payments-system/protocol';

/** The milliseconds part of an event id (`<ms>-<seq>`): when the bus issued it, by its clock. */
export function msOf(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/** Merges lists that are each in id order into one list in id order (a resume's rooms). */
export function mergeById<T>(lists: readonly (readonly T[])[], idOf: (item: T) => string): T[] {
  if (lists.length === 0) return [];
  if (lists.length === 1) return [...(lists[0] as readonly T[])];
  // A resume reads a handful of rooms and at most RECOVERY_MAX_EVENTS events: sorting the
  // concatenation is as fast as a heap here, and obviously right.
  return lists.flat().sort((a, b) => compareEventIds(idOf(a), idOf(b)));
}
