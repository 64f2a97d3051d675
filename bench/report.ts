/**
 * The bench report: the versioned shape written by `--json` and read by the table and HTML renderers, plus the
 * helpers all renderers share (target verdicts, ratios against the direct path and the peers).
 */
import { DIRECT_PATH, type Metric, type Target } from "./scenario.ts";

/** Bump when the JSON shape changes incompatibly. */
export const REPORT_SCHEMA = "inlay-bench/1";

/** Outcome of one target: met, missed, or not measured in this run. */
export type Verdict = "PASS" | "MISS" | "n/a";

/** A target with the values it was judged on. */
export interface TargetResult extends Target {
  /** The limit actually compared against (resolved when `value` names another metric). */
  limit: number | null;
  actual: number | null;
  unit: string;
  verdict: Verdict;
  /** Why the verdict is n/a. */
  reason?: string;
}

/** ok: ran; not-available: its part is not built; failed: it threw. */
export type ScenarioStatus = "ok" | "not-available" | "failed";

/** One scenario's outcome in the report. */
export interface ScenarioResult {
  name: string;
  description: string;
  status: ScenarioStatus;
  /** For not-available and failed scenarios. */
  reason?: string;
  durationMs: number;
  metrics: Metric[];
  targets: TargetResult[];
  notes: string[];
}

/** The machine a report was measured on. */
export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  memoryMiB: number;
  os: string;
  kernel: string;
  arch: string;
  runtime: string;
  /** 1-minute load average when the run started: a busy machine explains odd numbers. */
  loadAverage1m: number;
  /** Which CPUs the load generator and the processes under test ran on (bench/cpu_placement.ts). */
  placement?: string;
}

/** The whole report, as written by `--json`. */
export interface Report {
  schema: typeof REPORT_SCHEMA;
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: MachineInfo;
  /** Peer programs found on PATH (absolute path), null when absent. */
  peers: Record<string, string | null>;
  scenarios: ScenarioResult[];
}

/** Paths that a measured path is compared with when they are in the same group. */
export const RATIO_BASES = [DIRECT_PATH, "haproxy"] as const;

/** `value / base` for each base path present in the metric's group (excluding the metric itself). */
export function ratiosFor(m: Metric, all: Metric[]): { base: string; ratio: number }[] {
  if (!m.group || !m.path) return [];
  const out: { base: string; ratio: number }[] = [];
  for (const base of RATIO_BASES) {
    if (m.path === base) continue;
    const b = all.find((x) => x.group === m.group && x.path === base && x.unit === m.unit);
    if (b && b.value > 0 && Number.isFinite(m.value)) out.push({ base, ratio: m.value / b.value });
  }
  return out;
}

/** Resolves each target against the metrics of one scenario run. */
export function evaluateTargets(targets: Target[], metrics: Metric[]): TargetResult[] {
  return targets.map((t) => {
    const m = metrics.find((x) => x.id === t.metric);
    const ref = typeof t.value === "number" ? undefined : metrics.find((x) => x.id === (t.value as { metric: string }).metric);
    const unit = m?.unit ?? ref?.unit ?? t.unit ?? "";
    let limit: number | null = null;
    let reason: string | undefined;
    if (typeof t.value === "number") limit = t.value;
    else if (ref) limit = ref.value * (t.value.factor ?? 1);
    else reason = `reference metric ${t.value.metric} not measured`;
    if (!m) reason = `metric ${t.metric} not measured`;
    if (!m || limit === null || !Number.isFinite(m.value)) return { ...t, limit, actual: m?.value ?? null, unit, verdict: "n/a", reason };
    const pass = t.op === "<=" ? m.value <= limit : m.value >= limit;
    return { ...t, limit, actual: m.value, unit, verdict: pass ? "PASS" : "MISS" };
  });
}

/** Formats a number with about three significant digits (no exponent for ordinary ranges). */
export function formatNumber(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "–";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 100_000) return Math.round(v).toLocaleString("en-US");
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

/** How a target reads for people: "lookup_p99 <= 1000 µs (issue 2)". */
export function describeTarget(t: TargetResult): string {
  const rhs =
    typeof t.value === "number" ? `${formatNumber(t.value)} ${t.unit}` : `${(t.value.factor ?? 1) === 1 ? "" : `${t.value.factor} × `}${t.value.metric}`;
  return `${t.metric} ${t.op} ${rhs}`.trim();
}
