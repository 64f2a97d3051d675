/**
 * Resident memory of a process from /proc/<pid>/status (Linux): VmRSS now and VmHWM, the kernel's own
 * high-water mark, so short peaks between samples are not missed.
 */
import { readFileSync } from "node:fs";

/** One reading of a process's memory, in MiB. */
export interface RssReading {
  rssMiB: number;
  hwmMiB: number;
}

const KIB_PER_MIB = 1024;

/** Reads VmRSS and VmHWM of `pid`; undefined when the process is gone or /proc is unavailable. */
export function readProcRss(pid: number): RssReading | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, "m").exec(text);
    return m ? Number(m[1]) / KIB_PER_MIB : NaN;
  };
  return { rssMiB: field("VmRSS"), hwmMiB: field("VmHWM") };
}

/** What a sampler saw between start and stop. */
export interface RssSummary {
  maxMiB: number;
  lastMiB: number;
  hwmMiB: number;
  samples: number;
}

/** Periodic RSS sampling of a child process; `stop()` ends the timer and returns the summary. */
export interface RssSampler {
  stop(): RssSummary;
}

/** Default sampling period: often enough to see the shape, rare enough to cost nothing. */
export const RSS_SAMPLE_EVERY_MS = 100;

/** Starts sampling `pid` every `everyMs` until `stop()`. */
export function sampleRss(pid: number, everyMs = RSS_SAMPLE_EVERY_MS): RssSampler {
  const summary: RssSummary = { maxMiB: 0, lastMiB: NaN, hwmMiB: NaN, samples: 0 };
  const take = () => {
    const r = readProcRss(pid);
    if (!r) return;
    summary.samples++;
    summary.lastMiB = r.rssMiB;
    summary.hwmMiB = r.hwmMiB;
    if (r.rssMiB > summary.maxMiB) summary.maxMiB = r.rssMiB;
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return summary;
    },
  };
}
