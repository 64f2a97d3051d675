/**
 * `bun bench.ts [SCENARIO ...] [--quick] [--json FILE] [--html FILE] [--peers]`: picks scenarios, runs them
 * with progress on the terminal, prints the table and writes the requested report files.
 */
import { writeFileSync } from "node:fs";
import { helpText, parseOptions, UsageError, type OptionSpec } from "../core/options.ts";
import { killLiveChildren } from "./context.ts";
import { pinLoadGenerator } from "./cpu_placement.ts";
import { detectPeers, PEER_APT_COMMAND } from "./peers.ts";
import { newProgress } from "./progress.ts";
import { reportHtml } from "./report_html.ts";
import { reportTable, scenarioTable } from "./report_table.ts";
import { runBench } from "./run_bench.ts";
import type { Scenario } from "./scenario.ts";

const SPEC = {
  quick: { kind: "boolean", help: "smoke-test sizes: every scenario in under 60 s, asserts nothing about speed", default: false },
  json: { kind: "string", help: "write the report as JSON (schema inlay-bench/1) to FILE", arg: "FILE" },
  html: { kind: "string", help: "write a self-contained HTML report with charts to FILE", arg: "FILE" },
  peers: { kind: "boolean", help: "show which peers (socat, haproxy, iperf3, nginx) are installed and how to install them", default: false },
} satisfies OptionSpec;

/** Picks scenarios by name; `all` (or nothing) means every one, in registry order. */
export function selectScenarios(all: Scenario[], names: string[]): Scenario[] {
  if (names.length === 0 || names.includes("all")) return all;
  const unknown = names.filter((n) => !all.some((s) => s.name === n));
  if (unknown.length) throw new UsageError(`Unknown scenario ${unknown.map((n) => `"${n}"`).join(", ")}: choose from ${all.map((s) => s.name).join(", ")}, all`);
  return all.filter((s) => names.includes(s.name));
}

/** Runs the bench command; returns the exit status (1 when a scenario failed, 2 on usage errors). */
export async function benchCli(argv: string[], env: Record<string, string | undefined>, scenarios: Scenario[]): Promise<number> {
  const usage = "bun bench.ts [SCENARIO ...] [--quick] [--json FILE] [--html FILE] [--peers]";
  let parsed;
  let chosen: Scenario[];
  try {
    parsed = parseOptions(SPEC, argv, env);
    chosen = selectScenarios(scenarios, parsed.positionals);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  if (parsed.help) {
    const list = scenarios.map((s) => `  ${s.name.padEnd(10)} ${s.description}`).join("\n");
    process.stdout.write(helpText(usage, `Measures Inlay against its targets, the direct loopback path and peers.\n\nScenarios (default all):\n${list}`, SPEC));
    return 0;
  }
  if (parsed.options.peers) {
    for (const [name, path] of Object.entries(detectPeers())) process.stdout.write(`${name.padEnd(8)} ${path ?? "not installed"}\n`);
    process.stdout.write(`\nInstall them all (Debian/Ubuntu):\n  ${PEER_APT_COMMAND}\n`);
    return 0;
  }
  // An interrupted run still ends the services and peers it started.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      killLiveChildren();
      process.exit(130);
    });
  }
  const progress = newProgress();
  const report = await runBench(chosen, {
    quick: parsed.options.quick,
    progress,
    onResult: (r) => process.stderr.write(process.stderr.isTTY ? `${scenarioTable(r).split("\n")[0]}\n` : ""),
    placement: pinLoadGenerator(),
  });
  process.stdout.write(`${reportTable(report)}\n`);
  if (parsed.options.json) writeFileSync(parsed.options.json, `${JSON.stringify(report, null, 2)}\n`);
  if (parsed.options.html) writeFileSync(parsed.options.html, reportHtml(report));
  return report.scenarios.some((s) => s.status === "failed") ? 1 : 0;
}
