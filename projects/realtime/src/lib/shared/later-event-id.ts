import { compareEventIds } from '@payments-system/protocol';

/** The later of two event ids (`null`: none yet). */
export function later(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return compareEventIds(a, b) >= 0 ? a : b;
}
