/**
 * A latency histogram in the spirit of HdrHistogram: logarithmic buckets 1 % wide, so recording is O(1), memory
 * is fixed (a few KiB) whatever the count, and any percentile is within 1 % of the exact value.
 */

/** Relative width of one bucket: percentiles are exact to about this fraction. */
export const BUCKET_GROWTH = 1.01;
/** Largest recordable latency; longer ones are counted in the last bucket (they still count for max). */
export const MAX_RECORDABLE_NS = 100e9;
const LOG_GROWTH = Math.log(BUCKET_GROWTH);
const BUCKET_COUNT = Math.ceil(Math.log(MAX_RECORDABLE_NS) / LOG_GROWTH) + 1;

/** The serialisable summary of a recorder, as stored in the JSON report and drawn in the HTML one. */
export interface HistogramData {
  unit: "µs";
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  /** Non-empty buckets as [lower bound, upper bound, count], bounds in µs, ascending. */
  buckets: [number, number, number][];
}

/** Collects latencies (nanoseconds) and answers percentiles. */
export interface LatencyRecorder {
  record(ns: number): void;
  /** Records the time elapsed since `startNs` (a `Bun.nanoseconds()` reading). */
  recordSince(startNs: number): void;
  count(): number;
  /** The value at quantile `q` (0..1), in µs. */
  percentileUs(q: number): number;
  summary(): HistogramData;
}

const bucketOf = (ns: number) => Math.min(BUCKET_COUNT - 1, Math.max(0, Math.floor(Math.log(Math.max(ns, 1)) / LOG_GROWTH)));
const lowerNs = (i: number) => Math.exp(i * LOG_GROWTH);

/** A fresh, empty recorder. */
export function newLatencyRecorder(): LatencyRecorder {
  const counts = new Float64Array(BUCKET_COUNT);
  let n = 0;
  let sum = 0;
  let min = Infinity;
  let max = 0;

  const record = (ns: number) => {
    counts[bucketOf(ns)]! += 1;
    n++;
    sum += ns;
    if (ns < min) min = ns;
    if (ns > max) max = ns;
  };

  const percentileUs = (q: number): number => {
    if (n === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * n));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += counts[i]!;
      if (seen >= rank) {
        // Geometric middle of the bucket, never outside what was actually seen.
        const mid = Math.sqrt(lowerNs(i) * lowerNs(i + 1));
        return Math.min(max, Math.max(min, mid)) / 1000;
      }
    }
    return max / 1000;
  };

  return {
    record,
    recordSince: (startNs) => record(Bun.nanoseconds() - startNs),
    count: () => n,
    percentileUs,
    summary() {
      const buckets: [number, number, number][] = [];
      for (let i = 0; i < BUCKET_COUNT; i++) {
        const c = counts[i]!;
        if (c > 0) buckets.push([lowerNs(i) / 1000, lowerNs(i + 1) / 1000, c]);
      }
      return {
        unit: "µs",
        count: n,
        min: n ? min / 1000 : NaN,
        max: max / 1000,
        mean: n ? sum / n / 1000 : NaN,
        p50: percentileUs(0.5),
        p90: percentileUs(0.9),
        p99: percentileUs(0.99),
        p999: percentileUs(0.999),
        buckets,
      };
    },
  };
}
