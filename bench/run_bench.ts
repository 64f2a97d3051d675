/**
 * Runs scenarios one after another, each with a fresh context whose cleanup always runs, and collects the
 * results into a report. A scenario that throws NotAvailable is reported as such; any other error is a failure
 * of that scenario only.
 */
import { newContext } from "./context.ts";
import type { CpuPlacement } from "./cpu_placement.ts";
import { machineInfo } from "./machine_info.ts";
import { detectPeers } from "./peers.ts";
import type { Progress } from "./progress.ts";
import { evaluateTargets, REPORT_SCHEMA, type Report, type ScenarioResult } from "./report.ts";
import { NotAvailable, type Scenario } from "./scenario.ts";

/** How runBench runs: sizes, progress, and a per-scenario callback. */
export interface RunOptions {
  quick: boolean;
  progress: Progress;
  /** Called after each scenario (the entry prints a line per scenario as it finishes). */
  onResult?: (r: ScenarioResult) => void;
  /** Where children run (the entry pins; tests leave placement to the scheduler). */
  placement?: CpuPlacement;
}

/** Runs `scenarios` in order and returns the whole report. */
export async function runBench(scenarios: Scenario[], opts: RunOptions): Promise<Report> {
  const startedAt = new Date().toISOString();
  const machine = { ...machineInfo(), ...(opts.placement ? { placement: opts.placement.describe } : {}) };
  const results: ScenarioResult[] = [];
  for (const s of scenarios) {
    const r = await runScenario(s, opts, opts.placement?.childPrefix ?? []);
    results.push(r);
    opts.onResult?.(r);
  }
  return { schema: REPORT_SCHEMA, startedAt, finishedAt: new Date().toISOString(), quick: opts.quick, machine, peers: detectPeers(), scenarios: results };
}

async function runScenario(s: Scenario, opts: RunOptions, childPrefix: string[]): Promise<ScenarioResult> {
  const handle = newContext(s.name, { ...opts, childPrefix });
  const start = performance.now();
  let status: ScenarioResult["status"] = "ok";
  let reason: string | undefined;
  try {
    handle.ctx.progress("starting");
    await s.run(handle.ctx);
  } catch (err) {
    status = err instanceof NotAvailable ? "not-available" : "failed";
    reason = err instanceof NotAvailable ? err.message : ((err as Error).stack ?? String(err));
  } finally {
    await handle.cleanup();
  }
  return {
    name: s.name,
    description: s.description,
    status,
    reason,
    durationMs: performance.now() - start,
    metrics: handle.metrics,
    targets: evaluateTargets(s.targets, handle.metrics),
    notes: handle.notes,
  };
}
