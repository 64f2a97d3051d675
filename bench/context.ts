/**
 * What a scenario gets to work with: temp dirs, progress, bounded loops, latency recorders, RSS sampling of
 * child processes, child processes that are killed afterwards, and cleanup that always runs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newLatencyRecorder, type LatencyRecorder } from "./latency_recorder.ts";
import { readProcRss, sampleRss, type RssReading, type RssSampler } from "./proc_rss.ts";
import type { Progress } from "./progress.ts";
import type { Metric } from "./scenario.ts";

/** Limits of a loop: it stops at whichever comes first. */
export interface LoopLimits {
  ms: number;
  count?: number;
}

/** What a bounded loop did: iterations, time, rate. */
export interface LoopResult {
  count: number;
  elapsedMs: number;
  perSecond: number;
}

/** A child process started through the context; killed at cleanup unless it already exited. */
export interface Child {
  pid: number;
  /** The match of `ready` in the child's output (empty when no pattern was given). */
  ready: RegExpExecArray | [];
  exited: Promise<number>;
  /** Last lines of stderr and stdout, for error messages. */
  outputTail(): string;
  /** Ends the child (SIGTERM, then SIGKILL after a grace period) and waits for it. */
  stop(): Promise<void>;
}

/** How `ctx.spawn` starts a child and decides it is ready. */
export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Resolve once a line of stdout or stderr matches; the child fails to start if it exits or the deadline passes first. */
  ready?: RegExp;
  readyTimeoutMs?: number;
}

/** Everything a scenario gets from the runner (see the module comment). */
export interface BenchContext {
  scenario: string;
  /** Short, smoke-test sized run (`--quick`). */
  quick: boolean;
  /** `full` normally, `quick` under `--quick`. */
  pick<T>(full: T, quick: T): T;
  /** A fresh directory under the system temp dir, removed at cleanup. */
  tempDir(prefix?: string): string;
  progress(message: string): void;
  metric(m: Metric): void;
  /** A remark shown under the scenario's results, e.g. "relay: not available: not built yet". */
  note(text: string): void;
  /** Registers cleanup (run last-in first-out after the scenario, whatever happened). */
  defer(fn: () => unknown): void;
  /** Calls `fn` sequentially until the time or count limit. */
  loop(limits: LoopLimits, fn: (i: number) => unknown): Promise<LoopResult>;
  /** `workers` concurrent callers of `fn`, together bounded by the limits. */
  loopConcurrent(workers: number, limits: LoopLimits, fn: (worker: number, i: number) => Promise<unknown>): Promise<LoopResult>;
  latency(): LatencyRecorder;
  readRss(pid: number): RssReading | undefined;
  /** Samples `pid` until cleanup or until the sampler's `stop()`. */
  sampleRss(pid: number, everyMs?: number): RssSampler;
  spawn(cmd: string[], opts?: SpawnOptions): Promise<Child>;
}

/** How long one cleanup step may take before the runner moves on. */
export const CLEANUP_STEP_TIMEOUT_MS = 5_000;
/** Default time a child has to print its ready line. */
export const SPAWN_READY_TIMEOUT_MS = 15_000;
/** Grace between SIGTERM and SIGKILL. */
export const CHILD_KILL_GRACE_MS = 2_000;
/** Output kept per child for error messages. */
export const CHILD_OUTPUT_TAIL_BYTES = 4_096;
/** How often loops refresh the progress line. */
const LOOP_PROGRESS_EVERY_MS = 250;

/** The context plus what the runner reads back from it. */
export interface ContextHandle {
  ctx: BenchContext;
  metrics: Metric[];
  notes: string[];
  /** Runs every deferred cleanup step; never throws (failures become notes). */
  cleanup(): Promise<void>;
}

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<"timeout">((r) => setTimeout(() => r("timeout"), ms).unref())]);

/** Builds the context for one scenario run. */
export function newContext(scenario: string, opts: { quick: boolean; progress: Progress; childPrefix?: string[] }): ContextHandle {
  const metrics: Metric[] = [];
  const notes: string[] = [];
  const cleanups: (() => unknown)[] = [];
  const progress = (message: string) => opts.progress.update(scenario, message);

  const loopConcurrent = async (workers: number, limits: LoopLimits, fn: (w: number, i: number) => Promise<unknown>) => {
    const start = performance.now();
    const deadline = start + limits.ms;
    const max = limits.count ?? Infinity;
    let issued = 0;
    let lastProgress = start;
    let failed = false;
    const worker = async (w: number) => {
      while (issued < max && !failed) {
        const now = performance.now();
        if (now >= deadline) break;
        if (now - lastProgress > LOOP_PROGRESS_EVERY_MS) {
          lastProgress = now;
          progress(`${issued} done, ${Math.max(0, (deadline - now) / 1000).toFixed(1)} s left`);
        }
        try {
          await fn(w, issued++);
        } catch (err) {
          failed = true; // the other workers stop at their next turn instead of running to the deadline
          throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
    const elapsedMs = performance.now() - start;
    return { count: issued, elapsedMs, perSecond: (issued * 1000) / elapsedMs };
  };

  const ctx: BenchContext = {
    scenario,
    quick: opts.quick,
    pick: (full, quick) => (opts.quick ? quick : full),
    tempDir(prefix = "inlay-bench-") {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
    progress,
    metric: (m) => void metrics.push(m),
    note: (text) => void notes.push(text),
    defer: (fn) => void cleanups.push(fn),
    loop: (limits, fn) => loopConcurrent(1, limits, async (_w, i) => fn(i)),
    loopConcurrent,
    latency: newLatencyRecorder,
    readRss: readProcRss,
    sampleRss(pid, everyMs) {
      const sampler = sampleRss(pid, everyMs);
      cleanups.push(() => sampler.stop());
      return sampler;
    },
    // Children start on the CPUs of the processes under test (bench/cpu_placement.ts); `exec` keeps their pid.
    spawn: (cmd, spawnOpts = {}) => spawnChild([...(opts.childPrefix ?? []), ...cmd], spawnOpts, cleanups),
  };

  return {
    ctx,
    metrics,
    notes,
    async cleanup() {
      while (cleanups.length > 0) {
        const fn = cleanups.pop()!;
        try {
          const r = await withTimeout(Promise.resolve().then(fn), CLEANUP_STEP_TIMEOUT_MS);
          if (r === "timeout") notes.push(`cleanup step timed out after ${CLEANUP_STEP_TIMEOUT_MS} ms`);
        } catch (err) {
          notes.push(`cleanup failed: ${(err as Error).message}`);
        }
      }
      opts.progress.clear();
    },
  };
}

/** Every child still running, so an interrupted bench can end them (they would outlive it otherwise). */
const liveChildren = new Set<{ kill(signal?: NodeJS.Signals): void }>();

/** Sends SIGKILL to every child the bench started that is still running (used on SIGINT/SIGTERM). */
export function killLiveChildren(): void {
  for (const c of liveChildren) c.kill("SIGKILL");
  liveChildren.clear();
}

async function spawnChild(cmd: string[], opts: SpawnOptions, cleanups: (() => unknown)[]): Promise<Child> {
  const proc = Bun.spawn(cmd, { cwd: opts.cwd, env: opts.env as Record<string, string>, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  liveChildren.add(proc);
  void proc.exited.then(() => liveChildren.delete(proc));
  let tail = "";
  const keep = (text: string) => {
    tail = (tail + text).slice(-CHILD_OUTPUT_TAIL_BYTES);
  };
  let onLine: ((line: string) => void) | undefined;
  // Both pipes are drained for the child's whole life, so it never blocks on a full pipe.
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      keep(text);
      if (!onLine) continue;
      partial += text;
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      if (partial.length > CHILD_OUTPUT_TAIL_BYTES) partial = "";
      for (const line of parts) onLine?.(line);
    }
  };
  void drain(proc.stdout).catch(() => {});
  void drain(proc.stderr).catch(() => {});

  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGTERM");
    if ((await withTimeout(proc.exited, CHILD_KILL_GRACE_MS)) === "timeout") {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  };
  cleanups.push(stop);
  const child: Child = { pid: proc.pid, ready: [], exited: proc.exited, outputTail: () => tail, stop };
  if (!opts.ready) return child;

  const pattern = opts.ready;
  const timeoutMs = opts.readyTimeoutMs ?? SPAWN_READY_TIMEOUT_MS;
  const ready = await new Promise<RegExpExecArray | Error>((resolve) => {
    const timer = setTimeout(() => resolve(new Error(`no ready line within ${timeoutMs} ms`)), timeoutMs);
    onLine = (line) => {
      const m = pattern.exec(line);
      if (m) {
        clearTimeout(timer);
        onLine = undefined;
        resolve(m);
      }
    };
    void proc.exited.then((code) => {
      clearTimeout(timer);
      resolve(new Error(`exited with status ${code} before it was ready`));
    });
  });
  if (ready instanceof Error) {
    await stop();
    throw new Error(`${cmd.join(" ")}: ${ready.message}\n${tail.trim()}`);
  }
  child.ready = ready;
  return child;
}
