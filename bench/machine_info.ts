/** Describes the machine a report was measured on, so numbers from different runs are read in context. */
import { arch, cpus, loadavg, release, totalmem, type } from "node:os";
import type { MachineInfo } from "./report.ts";

/** The machine and runtime the bench is running on now. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? "unknown",
    cpus: list.length,
    memoryMiB: Math.round(totalmem() / 1024 / 1024),
    os: type(),
    kernel: release(),
    arch: arch(),
    runtime: `bun ${Bun.version}`,
    loadAverage1m: loadavg()[0] ?? 0,
  };
}
