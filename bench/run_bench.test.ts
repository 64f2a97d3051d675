import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { newProgress } from "./progress.ts";
import { REPORT_SCHEMA, type Report } from "./report.ts";
import { reportHtml } from "./report_html.ts";
import { reportTable } from "./report_table.ts";
import { runBench } from "./run_bench.ts";
import { NotAvailable, type Scenario } from "./scenario.ts";

let tempDirSeen = "";
let cleanedUp = 0;

const synthetic: Scenario = {
  name: "synthetic",
  description: "a tiny scenario that measures a loop",
  targets: [
    { metric: "ops", op: ">=", value: 1, source: "test" },
    { metric: "p99", op: "<=", value: 0, source: "test" },
    { metric: "fast", op: ">=", value: { metric: "slow", factor: 2 }, source: "test" },
    { metric: "missing", op: "<=", value: 1, source: "test" },
  ],
  async run(ctx) {
    tempDirSeen = ctx.tempDir();
    ctx.defer(() => cleanedUp++);
    const rec = ctx.latency();
    const r = await ctx.loop({ ms: 50, count: 500 }, () => {
      const t = Bun.nanoseconds();
      for (let i = 0; i < 1000; i++) Math.sqrt(i);
      rec.recordSince(t);
    });
    const h = rec.summary();
    ctx.metric({ id: "ops", label: "loop rate", value: r.perSecond, unit: "ops/s" });
    ctx.metric({ id: "p99", label: "loop p99", value: h.p99, unit: "µs", histogram: h });
    ctx.metric({ id: "slow", label: "rate, direct", value: 10, unit: "Gbit/s", group: "rate", path: "direct" });
    ctx.metric({ id: "fast", label: "rate, inlay", value: 30, unit: "Gbit/s", group: "rate", path: "inlay" });
    ctx.note("synthetic <note> & escaped");
  },
};

const missing: Scenario = {
  name: "missing",
  description: "needs a part that is not built",
  targets: [],
  async run() {
    throw new NotAvailable("part/index.ts is not built yet");
  },
};

const broken: Scenario = {
  name: "broken",
  description: "throws",
  targets: [],
  async run(ctx) {
    ctx.defer(() => cleanedUp++);
    throw new Error("boom");
  },
};

const quiet = newProgress(process.stderr, false);

test("runBench() reports metrics, verdicts, not-available and failed scenarios, and always cleans up", async () => {
  cleanedUp = 0;
  const report = await runBench([synthetic, missing, broken], { quick: true, progress: quiet });
  expect(report.schema).toBe(REPORT_SCHEMA);
  expect(report.machine.cpus).toBeGreaterThan(0);
  expect(Object.keys(report.peers).sort()).toEqual(["haproxy", "iperf3", "nginx", "socat"]);
  const [syn, miss, brk] = report.scenarios;
  expect(syn!.status).toBe("ok");
  expect(syn!.metrics.map((m) => m.id)).toEqual(["ops", "p99", "slow", "fast"]);
  expect(syn!.metrics[1]!.histogram!.count).toBeGreaterThan(0);
  expect(syn!.targets.map((t) => t.verdict)).toEqual(["PASS", "MISS", "PASS", "n/a"]);
  expect(syn!.targets[2]!.limit).toBe(20);
  expect(miss!.status).toBe("not-available");
  expect(miss!.reason).toBe("part/index.ts is not built yet");
  expect(brk!.status).toBe("failed");
  expect(brk!.reason).toContain("boom");
  expect(cleanedUp).toBe(2);
  expect(existsSync(tempDirSeen)).toBe(false);
});

test("the JSON report round-trips with the versioned schema and every field a reader needs", async () => {
  const report = await runBench([synthetic], { quick: true, progress: quiet });
  const back = JSON.parse(JSON.stringify(report)) as Report;
  expect(back.schema).toBe("inlay-bench/1");
  for (const key of ["startedAt", "finishedAt", "quick", "machine", "peers", "scenarios"]) expect(back).toHaveProperty(key);
  const s = back.scenarios[0]!;
  for (const key of ["name", "description", "status", "durationMs", "metrics", "targets", "notes"]) expect(s).toHaveProperty(key);
  for (const m of s.metrics) {
    expect(typeof m.value).toBe("number");
    expect(m.unit.length).toBeGreaterThan(0);
  }
  for (const t of s.targets) expect(["PASS", "MISS", "n/a"]).toContain(t.verdict);
  expect(reportTable(back)).toContain("PASS ops >= 1.00 ops/s [test]");
});

test("the HTML report is self-contained: inline styles and SVG, no external references, input escaped", async () => {
  const report = await runBench([synthetic, missing], { quick: true, progress: quiet });
  const html = reportHtml(report);
  expect(html.startsWith("<!doctype html>")).toBe(true);
  expect(html).toContain("<svg");
  expect(html).toContain('class="hist"');
  expect(html).toContain("<style>");
  expect(html).not.toMatch(/<link|<img|<iframe|@import|url\(|\ssrc=|href=/i);
  expect(html).not.toMatch(/https?:\/\//);
  expect(html).toContain("synthetic &lt;note&gt; &amp; escaped");
  const embedded = /<script type="application\/json" id="report">([\s\S]*?)<\/script>/.exec(html)![1]!;
  expect((JSON.parse(embedded) as Report).schema).toBe(REPORT_SCHEMA);
});
