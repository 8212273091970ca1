// Phase (5) of `npm run bench`, the gateway only: what presence watchers cost the broadcast path.
// Delivery CPU to the large room in bursts, in slices alternating (ABBA) between no watchers and
// every socket of the room watching its own user's room (what a customer's token may watch), so a
// drift of the machine's load lands on both alike. Watches are set and cleared between slices, outside
// the measured time; no socket comes or goes while measuring, so watchers receive nothing: what is
// measured is the broadcast loop with the presence registries populated.
import { median } from './harness.mjs';

/**
 * @typedef {import('./harness.mjs').LoadGenerators} LoadGenerators
 * @typedef {import('./results.ts').RunResult} RunResult
 * @typedef {import('./results.ts').PresenceResult} PresenceResult
 * @typedef {{ expected: number, received: number, cpuMicros: number }} Slice
 */

/** Every socket of the pool starts (or stops) watching; resolves once the gateway answered them all. */
async function setWatches(/** @type {LoadGenerators} */ pool, /** @type {boolean} */ watch) {
  const answers = await pool.all('presence', { watch });
  const missing = answers.reduce((sum, a) => sum + a.missing, 0);
  if (missing > 0) throw new Error(`presence: ${missing} watch requests unanswered`);
  return answers.reduce((sum, a) => sum + a.sent, 0);
}

/**
 * `slice(session, room, roomSize, mode, events)` is run.mjs's throughput slice. Returns the CPU per
 * delivery with and without watchers, their ratio, and the watches that were in place.
 * @template {{ pool: LoadGenerators }} S
 * @param {S} session
 * @param {{ room: import('@payments-system/protocol').Room, roomSize: number, events: number, slices: number }} phase
 * @param {(session: S, room: import('@payments-system/protocol').Room, roomSize: number, mode: 'burst', events: number) => Promise<Slice>} slice
 * @param {(...args: unknown[]) => void} log
 * @returns {Promise<PresenceResult>}
 */
export async function presenceCost(session, { room, roomSize, events, slices }, slice, log) {
  /** @type {{ without: Slice[], with: Slice[] }} */
  const parts = { without: [], with: [] };
  let watches = 0;
  for (let i = 0; i < slices; i++) {
    // ABBA: the order alternates, so what one slice leaves the next (garbage, a warmer JIT) falls on both alike.
    for (const watching of i % 2 === 0 ? [false, true] : [true, false]) {
      const sent = await setWatches(session.pool, watching);
      if (watching) watches = sent;
      // Unmeasured: the garbage of 5,000 watch requests (and of the watches a stop frees) is collected here,
      // not in the measured slice (without it, the slices after a stop measured ~10 % more).
      await slice(session, room, roomSize, 'burst', Math.max(10, Math.round(events / 4 / 10) * 10));
      parts[watching ? 'with' : 'without'].push(await slice(session, room, roomSize, 'burst', events));
    }
  }
  await setWatches(session.pool, false);
  const perDelivery = (/** @type {Slice[]} */ list) => list.reduce((s, p) => s + p.cpuMicros, 0) / list.reduce((s, p) => s + p.received, 0);
  const lost = [...parts.without, ...parts.with].reduce((s, p) => s + p.expected - p.received, 0);
  const cpuPerDeliveryUs = { without: perDelivery(parts.without), with: perDelivery(parts.with) };
  const result = {
    room,
    roomSize,
    watches,
    slices,
    lost,
    cpuPerDeliveryUs,
    // Per slice, to show the noise next to the difference.
    slicesUs: {
      without: parts.without.map((p) => p.cpuMicros / p.received),
      with: parts.with.map((p) => p.cpuMicros / p.received),
    },
    ratio: cpuPerDeliveryUs.with / cpuPerDeliveryUs.without,
  };
  log(
    `  gateway presence: ${result.cpuPerDeliveryUs.without.toFixed(2)} µs/delivery without watchers, ${result.cpuPerDeliveryUs.with.toFixed(2)} with ${watches} watchers: ×${result.ratio.toFixed(3)}, lost ${lost}`,
  );
  return result;
}

/** The report's lines for phase (5): medians over repeats. */
export function renderPresence(/** @type {readonly RunResult[]} */ runs) {
  const mine = runs.flatMap((r) => (r.presence ? [r.presence] : []));
  const first = mine[0];
  if (first === undefined) return '';
  const m = (/** @type {(result: PresenceResult) => number} */ get) => median(mine.map(get));
  const watches = first.watches;
  return [
    '',
    `Presence watchers and the broadcast path (gateway, ${first.roomSize}-socket room in bursts, median of ${mine.length} run(s)):`,
    `| | µs server CPU per delivery |`,
    `|---|---|`,
    `| no watchers | ${m((r) => r.cpuPerDeliveryUs.without).toFixed(2)} |`,
    `| every socket watching its user's room (${watches} watches) | ${m((r) => r.cpuPerDeliveryUs.with).toFixed(2)} |`,
    `| ratio | ×${m((r) => r.ratio).toFixed(3)} |`,
    '',
  ].join('\n');
}
