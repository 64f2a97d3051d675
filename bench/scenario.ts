/**
 * The contract between the bench runner and its scenarios: what a scenario declares (name, targets) and what it
 * produces (metrics with units, optionally a latency histogram, grouped by path so ratios can be printed).
 */
import type { BenchContext } from "./context.ts";
import type { HistogramData } from "./latency_recorder.ts";

/** How a target compares the measured value with its limit. */
export type TargetOp = "<=" | ">=";

/**
 * A limit from an issue. `value` is either an absolute number (in the metric's unit) or another metric of the
 * same run times `factor` (for "at least haproxy's throughput in the same run").
 */
export interface Target {
  metric: string;
  op: TargetOp;
  value: number | { metric: string; factor?: number };
  /** Where the limit comes from, e.g. "issue 2". */
  source: string;
  /** Unit of an absolute `value`, shown even when the metric was not measured. */
  unit?: string;
}

/** One measured figure. */
export interface Metric {
  /** Stable id, unique within the scenario (targets refer to it), e.g. "lookup_p99_1conn". */
  id: string;
  /** What it measures, for people, e.g. "lookup p99, 1 connection". */
  label: string;
  value: number;
  /** Unit of `value`: "µs", "ms", "MiB", "Gbit/s", "ops/s", "MB/s"... */
  unit: string;
  /** Metrics that measure the same thing over different paths share a group (used for ratios and charts). */
  group?: string;
  /** The path within the group: "direct" (the loopback limit), "socat", "haproxy", "inlay"... */
  path?: string;
  /** Latency distribution behind a percentile metric (for the HTML histograms). */
  histogram?: HistogramData;
}

/** A benchmark scenario: one file in bench/scenarios, registered in bench/scenarios/index.ts. */
export interface Scenario {
  name: string;
  /** One line shown in `--help` and in the report. */
  description: string;
  targets: Target[];
  /** Measures and reports through `ctx.metric`; throws NotAvailable when what it needs is not built. */
  run(ctx: BenchContext): Promise<void>;
}

/** Thrown by a scenario (or a part of it) when what it measures does not exist yet: reported, never faked. */
export class NotAvailable extends Error {
  override name = "NotAvailable";
}

/** The path name of the physical limit every group is compared with. */
export const DIRECT_PATH = "direct";
