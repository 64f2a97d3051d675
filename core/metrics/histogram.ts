/**
 * A Prometheus histogram with fixed bucket bounds: observing is a short scan and two adds on a preallocated
 * record, so it can sit on a hot path (one per verb, one per directory lookup).
 */

/** Bounds (seconds) for request latencies from a sqlite read (~10 µs) to a slow remote call (~10 s). */
export const LATENCY_BUCKETS_S: readonly number[] = [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** Counts per bucket (not cumulative; the last slot is +Inf), their sum and number. */
export interface Histogram {
  readonly bounds: readonly number[];
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** An empty histogram over `bounds` (ascending). */
export function newHistogram(bounds: readonly number[] = LATENCY_BUCKETS_S): Histogram {
  return { bounds, counts: new Float64Array(bounds.length + 1), sum: 0, count: 0 };
}

/** Records one observation of `value`. */
export function observe(h: Histogram, value: number): void {
  let i = 0;
  while (i < h.bounds.length && value > h.bounds[i]!) i++;
  h.counts[i]!++;
  h.sum += value;
  h.count++;
}

/** Adds `from` into `into` (same bounds): totals over several records. */
export function addHistogram(into: Histogram, from: Histogram): void {
  for (let i = 0; i < into.counts.length; i++) into.counts[i]! += from.counts[i]!;
  into.sum += from.sum;
  into.count += from.count;
}
