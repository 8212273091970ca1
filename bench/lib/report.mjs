// Medians and spreads over repeated runs, the ratio table against the issue's targets, and the chart.
import { LABELS, median, spread } from './harness.mjs';

/**
 * @typedef {import('./harness.mjs').ServerKind} ServerKind
 * @typedef {import('./results.ts').RunResult} RunResult
 * @typedef {'bare' | 'bare-jwt' | 'sio'} Baseline
 * @typedef {{ median: number, min: number, max: number, values: number[] }} Figure
 * @typedef {{
 *   figures: Partial<Record<ServerKind, Record<string, Figure> & { load?: Array<[number, number | undefined]> }>>,
 *   ratios: Record<string, Record<Baseline, number>>,
 *   targets: Array<Target & { value: number, met: boolean | null }>,
 * }} Summary
 * @typedef {{ metric: string, vs: Baseline, text: string, max?: number, min?: number, strict?: boolean, invert?: boolean }} Target
 */

/**
 * Every figure: where it comes from in one run (a phase the server did not run throws: no figure),
 * its unit, and whether lower is better.
 * @type {Array<{ key: string, label: string, unit: string, lower: boolean, get: (r: Required<RunResult>) => number }>}
 */
export const METRICS = [
  { key: 'memKiB', label: 'memory per idle connection', unit: 'KiB', lower: true, get: (r) => r.memory.bytesPerConnection / 1024 },
  { key: 'heapKiB', label: 'JS heap per idle connection', unit: 'KiB', lower: true, get: (r) => r.memory.heapBytesPerConnection / 1024 },
  { key: 'connPerSec', label: 'connection setup rate', unit: '/s', lower: false, get: (r) => r.connect.perSecond },
  { key: 'publishCpuUs', label: 'server CPU per publish request (empty room)', unit: 'µs', lower: true, get: (r) => r.publish.cpuPerPublishUs },
  { key: 'connCpuUs', label: 'server CPU per connection setup', unit: 'µs', lower: true, get: (r) => r.connect.serverCpuPerConnectionUs },
  { key: 'connClientCpuUs', label: '  load-generator CPU per connection setup', unit: 'µs', lower: true, get: (r) => r.connect.loadGenCpuPerConnectionUs },
  ...['small', 'large'].flatMap((room) =>
    ['isolated', 'burst'].flatMap((mode) => [
      { key: `cpu-${room}-${mode}`, label: `server CPU per delivery, ${room} room, ${mode}`, unit: 'µs', lower: true, get: (/** @type {Required<RunResult>} */ r) => r.throughput[`${room}-${mode}`].cpuPerDeliveryUs },
      { key: `fcpu-${room}-${mode}`, label: `  fan-out only (minus publish request), ${room} room, ${mode}`, unit: 'µs', lower: true, get: (/** @type {Required<RunResult>} */ r) => r.throughput[`${room}-${mode}`].fanOutCpuPerDeliveryUs },
      { key: `ucpu-${room}-${mode}`, label: `  of which user-space CPU, ${room} room, ${mode}`, unit: 'µs', lower: true, get: (/** @type {Required<RunResult>} */ r) => r.throughput[`${room}-${mode}`].userCpuPerDeliveryUs },
      { key: `lcpu-${room}-${mode}`, label: `  load-generator CPU per delivery, ${room} room, ${mode}`, unit: 'µs', lower: true, get: (/** @type {Required<RunResult>} */ r) => r.throughput[`${room}-${mode}`].loadGenCpuPerDeliveryUs },
      { key: `dps-${room}-${mode}`, label: `deliveries/s, ${room} room, ${mode}`, unit: '/s', lower: false, get: (/** @type {Required<RunResult>} */ r) => r.throughput[`${room}-${mode}`].deliveriesPerSecond },
    ]),
  ),
  .../** @type {const} */ (['small', 'large']).flatMap((room) =>
    [
      .../** @type {const} */ (['p50', 'p95', 'p99']).map((p) => ({ key: `lat-${room}-${p}`, label: `latency ${p}, ${room} room`, unit: 'ms', lower: true, get: (/** @type {Required<RunResult>} */ r) => r.latency[room][p] })),
      { key: `loop-${room}`, label: `  server event loop, longest block in that phase, ${room} room`, unit: 'ms', lower: true, get: (/** @type {Required<RunResult>} */ r) => r.latency[room].serverLoopDelayMaxMs },
    ],
  ),
];

/**
 * The issue's targets, as ratios gateway ÷ baseline. `invert` compares baseline ÷ gateway.
 * @type {Target[]}
 */
export const TARGETS = [
  { metric: 'cpu-small-isolated', vs: 'bare', max: 1.1, text: '≤ 1.10' },
  { metric: 'cpu-large-isolated', vs: 'bare', max: 1.1, text: '≤ 1.10' },
  { metric: 'fcpu-small-isolated', vs: 'bare', max: 1.1, text: '≤ 1.10 (fan-out only)' },
  { metric: 'fcpu-large-isolated', vs: 'bare', max: 1.1, text: '≤ 1.10 (fan-out only)' },
  { metric: 'cpu-small-burst', vs: 'bare', max: 1.0, strict: true, text: '< 1.0' },
  { metric: 'cpu-large-burst', vs: 'bare', max: 1.0, strict: true, text: '< 1.0' },
  { metric: 'memKiB', vs: 'bare', max: 1.25, text: '≤ 1.25' },
  // Re-based (issue 20): against a bare ws that verifies the same token with the same library.
  { metric: 'connPerSec', vs: 'bare-jwt', min: 0.95, text: '≥ 0.95' },
  { metric: 'connPerSec', vs: 'bare', min: 0.9, text: '≥ 0.90 (former target, unauthenticated baseline)' },
  { metric: 'lat-small-p99', vs: 'bare', max: 1.2, text: '≤ 1.2' },
  { metric: 'lat-large-p99', vs: 'bare', max: 1.2, text: '≤ 1.2' },
  { metric: 'cpu-small-isolated', vs: 'sio', invert: true, min: 1.6, text: 'deliveries per CPU-s ≥ 1.6×' },
  { metric: 'cpu-large-isolated', vs: 'sio', invert: true, min: 1.6, text: 'deliveries per CPU-s ≥ 1.6×' },
  { metric: 'memKiB', vs: 'sio', max: 0.6, text: '≤ 0.6' },
];

/**
 * Medians and spreads of every figure per server, the ratios of the gateway's to each baseline's, and the targets.
 * @param {readonly RunResult[]} runs
 * @param {readonly ServerKind[]} servers
 * @returns {Summary}
 */
export function summarize(runs, servers) {
  /** @type {Summary['figures']} */
  const figures = {};
  for (const kind of servers) {
    const mine = runs.filter((r) => r.kind === kind);
    /** @type {Record<string, Figure>} */
    const own = {};
    for (const m of METRICS) {
      const values = mine.map((r) => {
        try {
          return m.get(/** @type {Required<RunResult>} */ (r));
        } catch {
          return NaN;
        }
      });
      const [min = NaN, max = NaN] = spread(values);
      own[m.key] = { median: median(values), min, max, values };
    }
    figures[kind] = Object.assign(own, { load: mine.map((r) => /** @type {[number, number | undefined]} */ ([r.loadBefore, r.loadAfter])) });
  }
  const ratio = (/** @type {string} */ metric, /** @type {ServerKind} */ vs, invert = false) => {
    const a = figures.gateway?.[metric]?.median ?? NaN;
    const b = figures[vs]?.[metric]?.median ?? NaN;
    return invert ? b / a : a / b;
  };
  /** @type {Summary['ratios']} */
  const ratios = {};
  for (const m of METRICS) {
    ratios[m.key] = { bare: ratio(m.key, 'bare'), 'bare-jwt': ratio(m.key, 'bare-jwt'), sio: ratio(m.key, 'sio') };
  }
  const targets = TARGETS.map((t) => {
    const value = ratio(t.metric, t.vs, t.invert);
    const met = !Number.isFinite(value) ? null : t.max !== undefined ? (t.strict ? value < t.max : value <= t.max) : value >= (t.min ?? -Infinity);
    return { ...t, value, met };
  });
  return { figures, ratios, targets };
}

const fmt = (/** @type {number} */ v, digits = 2) => (Number.isFinite(v) ? (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v.toFixed(digits)) : '—');
const cell = (/** @type {Figure | undefined} */ f) => (f ? `${fmt(f.median)} (${fmt(f.min)}–${fmt(f.max)})` : '—');

/**
 * @typedef {{ cpus: number, model: string | undefined, memGiB: number, node: string, loadAtStart: number, loadAtEnd?: number, gateway?: string }} Machine
 * @typedef {Awaited<ReturnType<typeof import('./hold.mjs').holdTest>>} Hold
 */

/** The table of figures and ratios, the targets, the hold test, and the machine. */
export function renderTable(/** @type {Summary | undefined} */ summary, /** @type {Machine} */ machine, /** @type {Hold | undefined} */ hold) {
  const lines = [];
  if (summary) {
    const kinds = /** @type {ServerKind[]} */ (Object.keys(summary.figures));
    const baselines = /** @type {Baseline[]} */ (['bare', 'bare-jwt', 'sio']).filter((k) => kinds.includes(k));
    lines.push(`| figure | unit | ${kinds.map((k) => LABELS[k]).join(' | ')} | ${baselines.map((k) => `gateway ÷ ${LABELS[k]}`).join(' | ')} |`);
    lines.push(`|---|---|${kinds.map(() => '---').join('|')}|${baselines.map(() => '---').join('|')}|`);
    for (const m of METRICS) {
      lines.push(
        `| ${m.label} | ${m.unit} | ${kinds.map((k) => cell(summary.figures[k]?.[m.key])).join(' | ')} | ${baselines.map((k) => fmt(summary.ratios[m.key]?.[k] ?? NaN)).join(' | ')} |`,
      );
    }
    lines.push('', 'Median (min–max) over repeated runs. Targets (from the issue):', '');
    lines.push('| target | vs | ratio | target | met |', '|---|---|---|---|---|');
    for (const t of summary.targets) {
      const m = METRICS.find((x) => x.key === t.metric);
      lines.push(`| ${m?.label}${t.invert ? ' (baseline ÷ gateway)' : ''} | ${LABELS[t.vs]} | ${fmt(t.value)} | ${t.text} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`);
    }
  }
  if (hold) {
    lines.push(
      '',
      `Hold: ${hold.held} of ${hold.target} sockets open on one gateway for ${hold.seconds} s with default heartbeats; ` +
        `drops ${hold.drops}; server open files ${hold.fds} of ${hold.fdLimit}; RSS ${fmt(hold.rss / 2 ** 20, 0)} MiB.`,
    );
  }
  lines.push('', `Machine: ${machine.cpus} × ${machine.model}, ${machine.memGiB} GiB, Node ${machine.node}; load average ${machine.loadAtStart} at start, ${machine.loadAtEnd} at end.`);
  return lines.join('\n') + '\n';
}

/** A grouped bar chart of ratios to the bare `ws` baseline (1.0 = the practical limit). */
export async function renderChart(/** @type {Summary} */ summary) {
  const vega = await import('vega');
  const vl = await import('vega-lite');
  /** @type {Array<keyof typeof names>} */
  const shown = ['memKiB', 'connCpuUs', 'cpu-small-isolated', 'cpu-small-burst', 'cpu-large-isolated', 'cpu-large-burst', 'lat-small-p99', 'lat-large-p99'];
  const names = {
    memKiB: 'memory / conn',
    connCpuUs: 'CPU / handshake',
    'cpu-small-isolated': 'CPU / delivery, 1k, isolated',
    'cpu-small-burst': 'CPU / delivery, 1k, bursts',
    'cpu-large-isolated': 'CPU / delivery, 5k, isolated',
    'cpu-large-burst': 'CPU / delivery, 5k, bursts',
    'lat-small-p99': 'p99 latency, 20/s to 1k',
    'lat-large-p99': 'p99 latency, 2/s to 5k',
  };
  const values = [];
  for (const key of shown) {
    const bare = summary.figures.bare?.[key]?.median ?? NaN;
    for (const kind of /** @type {ServerKind[]} */ (Object.keys(summary.figures))) {
      const v = summary.figures[kind]?.[key]?.median ?? NaN;
      if (Number.isFinite(v) && Number.isFinite(bare) && bare > 0) values.push({ figure: names[key], server: LABELS[kind], ratio: +(v / bare).toFixed(3) });
    }
  }
  /** @type {import('vega-lite').TopLevelSpec} */
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'Cost relative to a bare ws server (lower is better; 1.0 = bare ws)', fontSize: 13 },
    width: 520,
    height: { step: 12 },
    data: { values },
    layer: [
      {
        mark: 'bar',
        encoding: {
          y: { field: 'figure', type: 'nominal', sort: shown.map((k) => names[k]), title: null },
          yOffset: { field: 'server', type: 'nominal', sort: Object.values(LABELS) },
          x: { field: 'ratio', type: 'quantitative', title: 'ratio to bare ws' },
          color: { field: 'server', type: 'nominal', sort: Object.values(LABELS), scale: { range: ['#1f77b4', '#9e9e9e', '#555555', '#ff7f0e'] } },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 9 },
        encoding: {
          y: { field: 'figure', type: 'nominal', sort: shown.map((k) => names[k]) },
          yOffset: { field: 'server', type: 'nominal', sort: Object.values(LABELS) },
          x: { field: 'ratio', type: 'quantitative' },
          text: { field: 'ratio', type: 'quantitative', format: '.2f' },
        },
      },
      { data: { values: [{ x: 1 }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#333' }, encoding: { x: { field: 'x', type: 'quantitative' } } },
    ],
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
