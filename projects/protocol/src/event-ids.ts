/**
 * Event ids: `<milliseconds>-<sequence>`, the format of Redis stream ids. They are totally
 * ordered across all rooms, and a restarted in-memory bus issues ids above the old ones, so a
 * client can drop any event whose id is not above the last one it has seen.
 */
export const EVENT_ID_PATTERN = /^\d{1,16}-\d{1,16}$/;

export function isEventId(value: unknown): value is string {
  return typeof value === 'string' && EVENT_ID_PATTERN.test(value);
}

/** Negative when `a` comes before `b`, positive after, 0 when equal. Both must be event ids. */
export function compareEventIds(a: string, b: string): number {
  const dashA = a.indexOf('-');
  const dashB = b.indexOf('-');
  const msA = Number(a.slice(0, dashA));
  const msB = Number(b.slice(0, dashB));
  if (msA !== msB) return msA < msB ? -1 : 1;
  const seqA = Number(a.slice(dashA + 1));
  const seqB = Number(b.slice(dashB + 1));
  return seqA === seqB ? 0 : seqA < seqB ? -1 : 1;
}
