/**
 * The strict exposition parser the metrics tests rely on: it must reject what Prometheus rejects, or those
 * tests would pass on broken output. Also: the relay's exposition (through core/metrics) parses.
 */
import { expect, test } from "bun:test";
import { expositionWriter, labels } from "../core/metrics/exposition.ts";
import { newHistogram, observe } from "../core/metrics/histogram.ts";
import { newRelayCounters, recordSession, renderMetrics } from "../relay/metrics.ts";
import { parsePrometheusText, sampleValue } from "./prometheus_text.ts";

test("reads families, labels with escapes, histograms", () => {
  const lines: string[] = [];
  const w = expositionWriter(lines);
  w.counter("x_total", "Things.", [[labels({ why: 'a "quoted"\\ \nline' }), 3]]);
  const h = newHistogram([0.1, 1]);
  for (const v of [0.05, 0.5, 5]) observe(h, v);
  w.histogram("d_seconds", "Durations.", [[labels({ verb: "lookup" }), h]]);
  const f = parsePrometheusText(lines.join("\n") + "\n");
  expect(sampleValue(f, "x_total", { why: 'a "quoted"\\ \nline' })).toBe(3);
  expect(sampleValue(f, "d_seconds_bucket", { verb: "lookup", le: "0.1" })).toBe(1);
  expect(sampleValue(f, "d_seconds_bucket", { verb: "lookup", le: "1" })).toBe(2);
  expect(sampleValue(f, "d_seconds_bucket", { verb: "lookup", le: "+Inf" })).toBe(3);
  expect(sampleValue(f, "d_seconds_sum", { verb: "lookup" })).toBeCloseTo(5.55);
  expect(f.get("d_seconds")!.type).toBe("histogram");
});

test.each([
  ["no final newline", "# TYPE a counter\na 1"],
  ["a sample before its TYPE block", "a 1\n# TYPE a counter\n"],
  ["a family split in two", "# TYPE a counter\na 1\n# TYPE b gauge\nb 1\n# TYPE a counter\n"],
  ["a duplicate series", '# TYPE a counter\na{x="1"} 1\na{x="1"} 2\n'],
  ["a bad escape", '# TYPE a counter\na{x="\\t"} 1\n'],
  ["a bad label name", '# TYPE a counter\na{1x="y"} 1\n'],
  ["a bad value", "# TYPE a counter\na one\n"],
  ["an unknown type", "# TYPE a meter\n"],
  ["buckets that are not cumulative", '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
  ["+Inf bucket unlike _count", '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n'],
])("rejects %s", (_why, text) => {
  expect(() => parsePrometheusText(text)).toThrow();
});

test("the relay's exposition parses", () => {
  const c = newRelayCounters();
  c.stats.refused.quota = 2;
  recordSession(c, ["@a", "@b"], 100, 1.5);
  const f = parsePrometheusText(renderMetrics(c, { preAuth: 1, pending: 0, pairs: 3, draining: true }));
  expect(sampleValue(f, "inlay_relay_pairs", {})).toBe(3);
  expect(sampleValue(f, "inlay_relay_draining", {})).toBe(1);
  expect(sampleValue(f, "inlay_relay_refused_total", { reason: "quota" })).toBe(2);
  expect(sampleValue(f, "inlay_relay_atsign_bytes_total", { atsign: "@a" })).toBe(100);
});
