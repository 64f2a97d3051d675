/**
 * Prometheus text exposition format 0.0.4: `# HELP`, `# TYPE`, then one line per series. Shared by the relay,
 * the directory and the atServer so that every service renders (and escapes) the same way.
 */
import type { Histogram } from "./histogram.ts";

/** The Content-Type of the exposition. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4";

/** One series: its label set as written (`""` or `{reason="x"}`) and its value. */
export type Series = [labels: string, value: number];

/** Appends metric families to a list of lines. */
export interface ExpositionWriter {
  /** A gauge without labels. */
  gauge(name: string, help: string, value: number): void;
  /** A gauge with one series per row. */
  gauges(name: string, help: string, rows: Series[]): void;
  counter(name: string, help: string, rows: Series[]): void;
  /** A histogram per row (`_bucket` lines with `le`, then `_sum` and `_count`). */
  histogram(name: string, help: string, rows: [labels: string, h: Histogram][]): void;
}

/** `{name="value",...}` with the format's escapes, or `""` for no labels. */
export function labels(pairs: Record<string, string>): string {
  const parts = Object.entries(pairs).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

const withLe = (set: string, le: string) => (set === "" ? `{le="${le}"}` : `${set.slice(0, -1)},le="${le}"}`);

/**
 * A writer over `lines`; join them with "\n" and end with "\n".
 * @example const lines: string[] = []; const w = expositionWriter(lines); w.gauge("up", "Alive.", 1);
 */
export function expositionWriter(lines: string[]): ExpositionWriter {
  const family = (name: string, help: string, type: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const series = (name: string, rows: Series[]) => {
    for (const [set, v] of rows) lines.push(`${name}${set} ${v}`);
  };
  return {
    gauge(name, help, value) {
      family(name, help, "gauge");
      lines.push(`${name} ${value}`);
    },
    gauges(name, help, rows) {
      family(name, help, "gauge");
      series(name, rows);
    },
    counter(name, help, rows) {
      family(name, help, "counter");
      series(name, rows);
    },
    histogram(name, help, rows) {
      family(name, help, "histogram");
      for (const [set, h] of rows) {
        let cumulative = 0;
        h.bounds.forEach((b, i) => {
          cumulative += h.counts[i]!;
          lines.push(`${name}_bucket${withLe(set, String(b))} ${cumulative}`);
        });
        lines.push(`${name}_bucket${withLe(set, "+Inf")} ${h.count}`, `${name}_sum${set} ${h.sum}`, `${name}_count${set} ${h.count}`);
      }
    },
  };
}
