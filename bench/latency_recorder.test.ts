import { expect, test } from "bun:test";
import { BUCKET_GROWTH, newLatencyRecorder } from "./latency_recorder.ts";

test("newLatencyRecorder() answers percentiles within one bucket of the exact value", () => {
  const rec = newLatencyRecorder();
  for (let us = 1; us <= 10_000; us++) rec.record(us * 1000);
  const cases = [
    [0.5, 5_000],
    [0.9, 9_000],
    [0.99, 9_900],
    [1, 10_000],
  ] as const;
  for (const [q, exact] of cases) {
    const got = rec.percentileUs(q);
    expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(BUCKET_GROWTH - 1);
  }
  const h = rec.summary();
  expect(h.count).toBe(10_000);
  expect(h.min).toBe(1);
  expect(h.max).toBe(10_000);
  expect(h.buckets.reduce((n, b) => n + b[2], 0)).toBe(10_000);
});

test("newLatencyRecorder() reports an empty distribution as NaN, not zero", () => {
  const h = newLatencyRecorder().summary();
  expect(h.count).toBe(0);
  expect(Number.isNaN(h.p50)).toBe(true);
  expect(h.buckets).toEqual([]);
});
