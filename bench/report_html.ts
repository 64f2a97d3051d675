/**
 * A self-contained HTML report: inline CSS and inline SVG only (no scripts, fonts or links), so it can be
 * mailed, archived and opened offline. Charts: a bar chart per metric group (paths side by side) and a
 * histogram per latency distribution. The full JSON report is embedded for machines.
 */
import type { HistogramData } from "./latency_recorder.ts";
import { describeTarget, formatNumber, ratiosFor, type Report, type ScenarioResult } from "./report.ts";
import type { Metric } from "./scenario.ts";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const BAR_CHART_WIDTH = 560;
const BAR_HEIGHT = 20;
const LABEL_WIDTH = 140;
/** Room right of the longest bar for its value label. */
const BAR_VALUE_WIDTH = 120;
const HIST_WIDTH = 560;
const HIST_HEIGHT = 160;
/** Histogram bins drawn (the recorder's 1 % buckets are merged into this many log-spaced bins). */
const HIST_BINS = 48;
/** The histogram axis ends at this multiple of p99. */
const HIST_TAIL_FACTOR = 5;

/** Horizontal bars, one per path of a group. */
function barChart(title: string, metrics: Metric[]): string {
  const max = Math.max(...metrics.map((m) => (Number.isFinite(m.value) ? m.value : 0)), 1e-9);
  const h = metrics.length * (BAR_HEIGHT + 6) + 24;
  const plot = BAR_CHART_WIDTH - LABEL_WIDTH - BAR_VALUE_WIDTH;
  const bars = metrics
    .map((m, i) => {
      const y = 20 + i * (BAR_HEIGHT + 6);
      const w = Number.isFinite(m.value) ? Math.max(1, (m.value / max) * plot) : 0;
      // Our own paths are named "inlay…" by the scenarios; everything else is the limit or a peer.
      const cls = m.path === "direct" ? "direct" : m.path?.startsWith("inlay") ? "inlay" : "peer";
      return `<text x="${LABEL_WIDTH - 6}" y="${y + 14}" text-anchor="end">${esc(m.path ?? m.label)}</text><rect class="${cls}" x="${LABEL_WIDTH}" y="${y}" width="${w.toFixed(1)}" height="${BAR_HEIGHT}"/><text x="${(LABEL_WIDTH + w + 4).toFixed(1)}" y="${y + 14}">${esc(formatNumber(m.value))} ${esc(m.unit)}</text>`;
    })
    .join("");
  return `<figure><svg width="${BAR_CHART_WIDTH}" height="${h}" viewBox="0 0 ${BAR_CHART_WIDTH} ${h}" role="img" aria-label="${esc(title)}"><text x="0" y="13" class="title">${esc(title)}</text>${bars}</svg></figure>`;
}

/** A latency histogram on a log time axis. */
function histogramChart(title: string, h: HistogramData): string {
  if (h.count === 0 || h.buckets.length === 0) return "";
  const lo = Math.log(Math.max(h.buckets[0]![0], 1e-3));
  // The axis ends at 5 × p99: a few far outliers would otherwise squeeze the body into a couple of bars.
  // Everything beyond lands in the last bar.
  const hi = Math.log(Math.min(h.buckets[h.buckets.length - 1]![1], Math.max(h.p99 * HIST_TAIL_FACTOR, Math.exp(lo) * 2)));
  const span = Math.max(hi - lo, 1e-9);
  const bins = new Array<number>(HIST_BINS).fill(0);
  for (const [a, b, c] of h.buckets) {
    const mid = (Math.log(Math.max(a, 1e-3)) + Math.log(b)) / 2;
    bins[Math.max(0, Math.min(HIST_BINS - 1, Math.floor(((mid - lo) / span) * HIST_BINS)))]! += c;
  }
  const top = Math.max(...bins);
  const plotH = HIST_HEIGHT - 40;
  const bw = HIST_WIDTH / HIST_BINS;
  const x = (us: number) => ((Math.log(us) - lo) / span) * HIST_WIDTH;
  const rects = bins.map((c, i) => (c ? `<rect class="hist" x="${(i * bw).toFixed(1)}" y="${(20 + plotH - (c / top) * plotH).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${((c / top) * plotH).toFixed(1)}"/>` : "")).join("");
  const marks = (
    [
      ["p50", h.p50],
      ["p99", h.p99],
    ] as const
  )
    .map(([n, v], i) => {
      // Labels near the right edge are drawn to the left of their line so they stay inside the chart.
      const right = x(v) > HIST_WIDTH - 100;
      const tx = (right ? x(v) - 3 : x(v) + 3).toFixed(1);
      return `<line class="mark" x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="20" y2="${20 + plotH}"/><text x="${tx}" y="${32 + i * 12}"${right ? ' text-anchor="end"' : ""}>${n} ${esc(formatNumber(v))} µs</text>`;
    })
    .join("");
  const axis = `<text x="0" y="${HIST_HEIGHT - 4}">${esc(formatNumber(Math.exp(lo)))} µs</text><text x="${HIST_WIDTH}" y="${HIST_HEIGHT - 4}" text-anchor="end">${esc(formatNumber(Math.exp(hi)))} µs and more (log scale, max ${esc(formatNumber(h.max))} µs)</text>`;
  return `<figure><svg width="${HIST_WIDTH}" height="${HIST_HEIGHT}" viewBox="0 0 ${HIST_WIDTH} ${HIST_HEIGHT}" role="img" aria-label="${esc(title)}"><text x="0" y="13" class="title">${esc(title)} (n=${h.count})</text>${rects}${marks}${axis}</svg></figure>`;
}

function scenarioSection(r: ScenarioResult): string {
  const status = r.status === "ok" ? "" : `<p class="${r.status}">${r.status === "failed" ? "FAILED" : "not available"}: ${esc(r.reason ?? "")}</p>`;
  const rows = r.metrics
    .map((m) => {
      const ratios = ratiosFor(m, r.metrics).map((x) => `${x.ratio.toFixed(2)}× ${x.base}`).join(", ");
      return `<tr><td>${esc(m.label)}</td><td class="num">${esc(formatNumber(m.value))}</td><td>${esc(m.unit)}</td><td>${esc(ratios)}</td></tr>`;
    })
    .join("");
  const table = rows ? `<table><thead><tr><th>metric</th><th>value</th><th>unit</th><th>ratio</th></tr></thead><tbody>${rows}</tbody></table>` : "";
  const targets = r.targets
    .map((t) => `<li class="${t.verdict === "PASS" ? "pass" : t.verdict === "MISS" ? "miss" : "na"}"><b>${t.verdict}</b> ${esc(describeTarget(t))} [${esc(t.source)}]${t.actual === null ? "" : `: ${esc(formatNumber(t.actual))} ${esc(t.unit)}`}${t.reason ? ` — ${esc(t.reason)}` : ""}</li>`)
    .join("");
  const groups = new Map<string, Metric[]>();
  for (const m of r.metrics) if (m.group) groups.set(m.group, [...(groups.get(m.group) ?? []), m]);
  const bars = [...groups].filter(([, ms]) => ms.length > 1).map(([g, ms]) => barChart(g, ms)).join("");
  const hists = r.metrics.filter((m) => m.histogram).map((m) => histogramChart(m.label, m.histogram!)).join("");
  const notes = r.notes.map((n) => `<li>${esc(n)}</li>`).join("");
  return `<section><h2>${esc(r.name)} <small>${esc(r.description)} · ${(r.durationMs / 1000).toFixed(1)} s</small></h2>${status}${table}${targets ? `<ul class="targets">${targets}</ul>` : ""}<div class="charts">${bars}${hists}</div>${notes ? `<ul class="notes">${notes}</ul>` : ""}</section>`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}h2 small{font-weight:normal;color:#666;font-size:.7em}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass b{color:#17803d}.miss b{color:#c0392b}.na b{color:#888}.failed{color:#c0392b}.not-available{color:#888}
.charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}svg text{font-size:11px;fill:#333}svg .title{font-weight:bold}
rect.direct{fill:#7f8c8d}rect.peer{fill:#5dade2}rect.inlay{fill:#e67e22}rect.hist{fill:#5dade2}line.mark{stroke:#c0392b;stroke-dasharray:3 2}
ul.notes{color:#666}section{margin-bottom:2em}`;

/** One table of every target of the run, first thing on the page. */
function targetSummary(report: Report): string {
  const rows = report.scenarios.flatMap((r) =>
    r.targets.map(
      (t) =>
        `<tr class="${t.verdict === "PASS" ? "pass" : t.verdict === "MISS" ? "miss" : "na"}"><td><b>${t.verdict}</b></td><td>${esc(r.name)}</td><td>${esc(describeTarget(t))}</td><td class="num">${t.actual === null ? "–" : `${esc(formatNumber(t.actual))} ${esc(t.unit)}`}</td><td>${esc(t.source)}</td></tr>`,
    ),
  );
  return rows.length ? `<h2>Targets</h2><table><thead><tr><th></th><th>scenario</th><th>target</th><th>measured</th><th>from</th></tr></thead><tbody>${rows.join("")}</tbody></table>` : "";
}

/** Renders the report as one HTML document with no external references. */
export function reportHtml(report: Report): string {
  const m = report.machine;
  const json = JSON.stringify(report).replace(/</g, "\\u003c");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Inlay bench ${esc(report.startedAt)}</title><style>${CSS}</style></head><body>
<h1>Inlay bench</h1><p>${esc(report.startedAt)} · ${m.cpus} × ${esc(m.cpuModel)}, ${m.memoryMiB} MiB, ${esc(m.os)} ${esc(m.kernel)}, ${esc(m.runtime)}, load ${m.loadAverage1m.toFixed(2)}${report.quick ? " · <b>quick run: figures indicative only</b>" : ""}</p>
<p>Peers: ${Object.entries(report.peers).map(([k, v]) => `${esc(k)} ${v ? "yes" : "no"}`).join(", ")}. Ratios compare each path with the direct loopback path and haproxy measured in the same run.</p>
${targetSummary(report)}
${report.scenarios.map(scenarioSection).join("\n")}
<script type="application/json" id="report">${json}</script></body></html>
`;
}
