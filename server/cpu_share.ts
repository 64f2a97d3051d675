/**
 * A connection's share of the event loop: the time its handlers run synchronously, as a token bucket. It
 * starts with `burstMs`, refills at `share` of wall time, and is charged only while another connection is
 * active too: a connection alone may use the whole machine, and one that has run ahead of its share waits
 * (`waitMs`) while others are served, so one peer pipelining expensive commands cannot starve the rest.
 */

/** Longest a connection waits for its share (ms): debt beyond it (one enormous command) is forgiven. */
export const CPU_WAIT_MAX_MS = 30_000;

/** What a connection may take; see DEFAULT_LISTENER_LIMITS for the defaults. */
export interface CpuShareLimits {
  /** Fraction of wall time (0..1] a connection's handlers may run while other connections are active. */
  share: number;
  /** Handler time (ms) a connection may run ahead of its share before it waits. */
  burstMs: number;
}

/** One connection's bucket. */
export interface CpuShare {
  /** Handler time left (ms); negative when the connection is over its share. */
  tokensMs: number;
  /** When tokens were last refilled (performance.now()). */
  atMs: number;
}

export function newCpuShare(limits: CpuShareLimits, nowMs: number): CpuShare {
  return { tokensMs: limits.burstMs, atMs: nowMs };
}

function refill(b: CpuShare, limits: CpuShareLimits, nowMs: number): void {
  b.tokensMs = Math.min(limits.burstMs, b.tokensMs + (nowMs - b.atMs) * limits.share);
  b.atMs = nowMs;
}

/** Records `spentMs` of handler time. */
export function chargeCpu(b: CpuShare, limits: CpuShareLimits, spentMs: number, nowMs: number): void {
  refill(b, limits, nowMs);
  b.tokensMs = Math.max(b.tokensMs - spentMs, -CPU_WAIT_MAX_MS * limits.share);
}

/** How long the connection must wait before its next command (0 = it may go now). */
export function cpuWaitMs(b: CpuShare, limits: CpuShareLimits, nowMs: number): number {
  refill(b, limits, nowMs);
  return b.tokensMs >= 0 ? 0 : Math.ceil(-b.tokensMs / limits.share);
}
