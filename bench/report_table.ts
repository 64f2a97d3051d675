/** The terminal rendering of a report: per scenario a table of metrics with ratios, then PASS/MISS per target. */
import { describeTarget, formatNumber, ratiosFor, type Report, type ScenarioResult } from "./report.ts";

const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length));
const padLeft = (s: string, n: number) => (s.length >= n ? s : " ".repeat(n - s.length) + s);

/** Lines of a failure's message shown on the terminal. */
const FAILURE_LINES = 4;

/** One scenario's block of lines. */
export function scenarioTable(r: ScenarioResult): string {
  // A failure's stack trace stays in the JSON; the terminal gets its first lines.
  const reason = (r.reason ?? "").split("\n").slice(0, FAILURE_LINES).join("\n    ");
  const what = r.status === "ok" ? r.description : `${r.status === "not-available" ? "not available" : "FAILED"}: ${reason}`;
  const head = `== ${r.name}: ${what} (${(r.durationMs / 1000).toFixed(1)} s)`;
  const lines = [head];
  if (r.metrics.length > 0) {
    const rows = r.metrics.map((m) => [m.label, formatNumber(m.value), m.unit, ratiosFor(m, r.metrics).map((x) => `${x.ratio.toFixed(2)}× ${x.base}`).join(", ")] as const);
    const w0 = Math.max(...rows.map((x) => x[0].length));
    const w1 = Math.max(...rows.map((x) => x[1].length));
    const w2 = Math.max(...rows.map((x) => x[2].length));
    for (const [label, value, unit, ratios] of rows) lines.push(`  ${pad(label, w0)}  ${padLeft(value, w1)} ${pad(unit, w2)}  ${ratios}`.trimEnd());
  }
  for (const t of r.targets) {
    const actual = t.actual === null ? "" : `: ${formatNumber(t.actual)} ${t.unit}`;
    const limit = typeof t.value === "number" ? "" : ` (= ${formatNumber(t.limit)} ${t.unit})`;
    lines.push(`  ${pad(t.verdict, 4)} ${describeTarget(t)}${limit} [${t.source}]${actual}${t.reason ? ` — ${t.reason}` : ""}`);
  }
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines.join("\n");
}

/** The whole report: machine line, every scenario, and a one-line summary. */
export function reportTable(report: Report): string {
  const m = report.machine;
  const peers = Object.entries(report.peers)
    .map(([k, v]) => `${k} ${v ? "yes" : "no"}`)
    .join(", ");
  const verdicts = report.scenarios.flatMap((s) => s.targets.map((t) => t.verdict));
  const count = (v: string) => verdicts.filter((x) => x === v).length;
  return [
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryMiB} MiB, ${m.os} ${m.kernel}, ${m.runtime}, load ${m.loadAverage1m.toFixed(2)}; peers: ${peers}${m.placement ? `; ${m.placement}` : ""}`,
    report.quick ? "quick run (smoke test): figures are indicative, verdicts assert nothing" : "",
    ...report.scenarios.map(scenarioTable),
    `targets: ${count("PASS")} PASS, ${count("MISS")} MISS, ${count("n/a")} n/a`,
  ]
    .filter(Boolean)
    .join("\n\n");
}
