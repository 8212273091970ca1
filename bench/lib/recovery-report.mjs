// The table and chart of `npm run bench:recovery`.
/** @typedef {import('./results.ts').RecoveryReport} RecoveryReport */

const fmt = (/** @type {number | undefined} */ v, digits = 0) => (v !== undefined && Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—');
const pct = (/** @type {number} */ v) => `${fmt(v * 100, 1)} %`;

export function renderRecoveryTable(/** @type {RecoveryReport} */ { parameters: P, result: r, machine, somaxconn }) {
  const failed = Object.entries(r.outcomes).filter(([outcome]) => outcome !== 'resumed');
  const lines = [
    `| clients | traffic (events/s to ${fmt(P.users)} users + role:CUSTOMER) | jitter | resumed | failed (reason) | lost | duplicated | out of order | live again p50 / p99 / max | B CPU (storm avg / peak 250 ms) | Redis CPU (avg / peak) | ListenOverflows / ListenDrops / SYN retrans |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    `| ${fmt(r.clients)} | ${fmt(r.publishedPerSecond)} (${fmt(P.rate)} + ${fmt(P.sharedRate)}) | ${fmt(P.jitterMinMs / 1000, 1)}–${fmt(P.jitterMaxMs / 1000, 1)} s | ${pct(r.resumedShare)} | ${failed.length ? failed.map(([o, n]) => `${o} ${fmt(n)}`).join(', ') : '0'} | ${fmt(r.lost)} | ${fmt(r.duplicated)} | ${fmt(r.outOfOrder)} | ${fmt(r.liveMs.p50 / 1000, 2)} / ${fmt(r.liveMs.p99 / 1000, 2)} / ${fmt((r.liveMs.max ?? NaN) / 1000, 2)} s | ${pct(r.bCoresStorm)} / ${pct(r.bCoresPeak)} of a core | ${pct(r.redisCoresStorm)} / ${pct(r.redisCoresPeak)} | ${fmt(r.tcp.listenOverflows)} / ${fmt(r.tcp.listenDrops)} / ${fmt(r.tcp.synRetrans)} |`,
    '',
    `Targets: 100 % resumed (${r.resumedShare === 1 ? 'met' : '**not met**'}), 0 lost (${r.lost === 0 ? 'met' : '**not met**'}), 0 duplicated (${r.duplicated === 0 ? 'met' : '**not met**'}), ` +
      `99 % live within the jitter window + 2 s = ${fmt(r.targetLiveMs / 1000, 1)} s (${r.liveMs.p99 <= r.targetLiveMs ? 'met' : '**not met**'}).`,
    '',
    `Deliveries expected ${fmt(r.expectedDeliveries)}, delivered ${fmt(r.delivered)} (events per client: median ${fmt(r.eventsMissedPerClient)}); ` +
      `handshake (first attempt to 101) p50 / p99 / max ${fmt(r.handshakeMs.p50)} / ${fmt(r.handshakeMs.p99)} / ${fmt(r.handshakeMs.max)} ms, ` +
      `resume (101 to the answer) ${fmt(r.resumeMs.p50)} / ${fmt(r.resumeMs.p99)} / ${fmt(r.resumeMs.max)} ms; ` +
      `published ${fmt(r.published)} (failed ${fmt(r.publishFailed)}); reconnect attempts ${fmt(r.reconnectAttempts)}` +
      `${Object.keys(r.connectFailures).length ? `, failed handshakes ${JSON.stringify(r.connectFailures)}` : ''}; ` +
      `gateway B's resume counter ${JSON.stringify(r.resumesOnB)}; load generator peak ${pct(r.loadgenCoresPeak)} of a core; ` +
      `net.core.somaxconn ${fmt(somaxconn)}.`,
    '',
    `Machine: ${machine.cpus} × ${machine.model}, ${machine.memGiB} GiB, Node ${machine.node}; load average ${machine.loadAtStart} at start, ${machine.loadAtEnd} at end.`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Clients live again over time since the kill, and the CPU of B and Redis beside it. */
export async function renderRecoveryChart(/** @type {RecoveryReport} */ { parameters: P, result: r, timeline, liveCurve }) {
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const cpu = timeline
    .filter((s) => s.t >= -1)
    .flatMap((s) => [
      { t: +s.t.toFixed(2), process: 'gateway B', cores: +s.bCores.toFixed(3) },
      { t: +s.t.toFixed(2), process: 'Redis', cores: +s.redisCores.toFixed(3) },
      { t: +s.t.toFixed(2), process: 'load generator', cores: +s.loadgenCores.toFixed(3) },
    ]);
  const end = Math.max(...cpu.map((s) => s.t), P.jitterMaxMs / 1000 + 2);
  /** @type {import('vega-lite/types_unstable/channeldef.js').PositionDef<string>} */
  const x = { field: 't', type: 'quantitative', title: 'seconds since kill -9 of gateway A', scale: { domain: [-1, Math.ceil(end)] } };
  /** @type {import('vega-lite').TopLevelSpec} */
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: `${r.clients.toLocaleString('en-US')} clients, ${Math.round(r.publishedPerSecond)} events/s, jitter ${P.jitterMinMs / 1000}–${P.jitterMaxMs / 1000} s`, fontSize: 13 },
    vconcat: [
      {
        width: 520,
        height: 140,
        data: { values: [{ t: 0, live: 0 }, ...liveCurve.map((p) => ({ t: +p.t.toFixed(3), live: p.live }))] },
        layer: [
          { mark: { type: 'line', interpolate: 'step-after' }, encoding: { x, y: { field: 'live', type: 'quantitative', title: 'clients live again', axis: { format: '%' } } } },
          { data: { values: [{ t: r.targetLiveMs / 1000 }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#c00' }, encoding: { x: { field: 't', type: 'quantitative' } } },
        ],
      },
      {
        width: 520,
        height: 140,
        data: { values: cpu },
        mark: { type: 'line', interpolate: 'monotone' },
        encoding: {
          x,
          y: { field: 'cores', type: 'quantitative', title: 'CPU (cores), per 250 ms' },
          color: { field: 'process', type: 'nominal', scale: { range: ['#1f77b4', '#d62728', '#9e9e9e'] } },
        },
      },
    ],
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
