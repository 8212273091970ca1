/**
 * Correlation ids for requests (`sub-3-k2x9`, `ping-7-1a2b`): a counter makes them unique per source, the random
 * part keeps two clients (or two tabs) from sending the same ids.
 */
export function correlationIds(random: () => number): (prefix: string) => string {
  let sequence = 0;
  return (prefix) => `${prefix}-${++sequence}-${Math.floor(random() * 1e9).toString(36)}`;
}
