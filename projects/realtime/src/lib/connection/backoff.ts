import type { RealtimeJitter } from '../config';

/** Delay before retry `attempt` (1-based) without jitter: the table's entry, the last one repeating. */
export function baseBackoffDelay(attempt: number, delaysMs: readonly number[]): number {
  const index = Math.min(Math.max(attempt, 1), delaysMs.length) - 1;
  return delaysMs[index] ?? 0;
}

/**
 * Delay before retry `attempt` (1-based) with jitter applied.
 * `random` returns a number in [0, 1), as `Math.random` does.
 */
export function backoffDelay(
  attempt: number,
  delaysMs: readonly number[],
  jitter: RealtimeJitter,
  random: () => number = Math.random,
): number {
  const base = baseBackoffDelay(attempt, delaysMs);
  switch (jitter) {
    case 'none':
      return base;
    case 'full':
      return Math.floor(random() * base);
    case 'equal':
      return Math.floor(base / 2 + random() * (base / 2));
  }
}
