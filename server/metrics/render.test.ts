/** The exposition of several @signs' records: summed totals, bounded labels. */
import { expect, test } from "bun:test";
import { parsePrometheusText, sampleValue } from "../../test/prometheus_text.ts";
import { renderServerMetrics } from "./render.ts";
import { countAnswer, countFailure, newServerMetrics } from "./server_metrics.ts";
import { AtProtocolError } from "../../core/wire/index.ts";

test("several @signs' records render as one set of totals, with no @sign label", () => {
  const gauges = { outboundSessions: 1, queueDepth: 2, keystoreBytes: 4096 };
  const [a, b] = [newServerMetrics(), newServerMetrics()];
  countAnswer(a, { verb: "scan", showHidden: false }, performance.now(), null);
  countAnswer(b, { verb: "scan", showHidden: false }, performance.now(), null);
  countFailure(b, { verb: "cram", digest: "x" }, performance.now(), new AtProtocolError("AT0401", "Authentication Failed"));
  countFailure(b, null, performance.now(), new TypeError("boom"));
  const f = parsePrometheusText(renderServerMetrics([{ metrics: a, gauges }, { metrics: b, gauges }]));
  expect(sampleValue(f, "inlay_server_commands_total", { verb: "scan", result: "ok" })).toBe(2);
  expect(sampleValue(f, "inlay_server_command_duration_seconds_count", { verb: "scan" })).toBe(2);
  expect(sampleValue(f, "inlay_server_commands_total", { verb: "invalid", result: "internal" })).toBe(1);
  expect(sampleValue(f, "inlay_server_auth_attempts_total", { method: "cram", result: "failed" })).toBe(1);
  expect(sampleValue(f, "inlay_server_notification_queue_depth")).toBe(4);
  expect([...f.values()].flatMap((x) => x.samples).filter((s) => "atsign" in s.labels)).toEqual([]);
});
