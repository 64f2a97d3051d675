/**
 * Where the bench's processes run: the load generator (this process) on CPU 0, every process under test on the
 * other CPUs. Why: on this VM a process that the scheduler happens to put on the other vCPU than the load
 * generator pays cross-vCPU wake-ups on every message, and which process landed where changed from run to run —
 * in one run the 64 B round trip p50 was 15.8 µs through haproxy but 44.4 µs through socat and through the relay,
 * in the next all three were ~16. Pinned, every path is in the same position in every run.
 */
import { cpus } from "node:os";

/** How children are started and what the report says about it. */
export interface CpuPlacement {
  /** Put before a child's command (`taskset -c 1`), or empty when nothing is pinned. */
  childPrefix: string[];
  /** One line for the report header. */
  describe: string;
}

/**
 * Pins this process (all its threads) to CPU 0 and returns how to start children on the others. Nothing is
 * pinned on a single-CPU machine or without `taskset`, and the report says so.
 */
export function pinLoadGenerator(): CpuPlacement {
  const n = cpus().length;
  if (n < 2 || !Bun.which("taskset")) return { childPrefix: [], describe: "not pinned (needs taskset and 2 CPUs)" };
  const pinned = Bun.spawnSync(["taskset", "-a", "-p", "-c", "0", String(process.pid)], { stdout: "ignore", stderr: "ignore" });
  if (pinned.exitCode !== 0) return { childPrefix: [], describe: "not pinned (taskset refused)" };
  const others = n === 2 ? "1" : `1-${n - 1}`;
  return { childPrefix: ["taskset", "-c", others], describe: `load generator on CPU 0, processes under test on CPU ${others}` };
}
