/**
 * Many idle relay sessions: two child processes (bench/fixtures/idle_legs.ts), one per side, open and hold the
 * legs, so the file-descriptor limit of each process is spent on one side only.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BenchContext } from "./context.ts";
import { BENCH_LEG_ATSIGNS, BENCH_RELAY_ATSIGN, type RelayPath } from "./relay_path.ts";

/** Descriptors kept free for everything else a process opens (listeners, pipes, files). */
const FD_HEADROOM = 256;
/** How long the legs of the largest idle test may take to pair. */
const IDLE_PAIRING_TIMEOUT_MS = 120_000;

/** The soft limit on open files of this process (children inherit it), from /proc/self/limits. */
export function openFilesLimit(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    if (m) return Number(m[1]);
  } catch {
    // not Linux: assume the common default
  }
  return 1024;
}

/**
 * Pairs of sockets one process can hold here: the relay needs two descriptors per session, and the bench
 * process two per stream (the source and the sink's end, or both relay legs).
 */
export function socketPairCapacity(): number {
  return Math.max(0, Math.floor((openFilesLimit() - FD_HEADROOM) / 2));
}

/** Idle sessions being held open by the two leg children. */
export interface HeldSessions {
  sessions: number;
  /** Both legs dialled, authenticated and joined, per second (two bench children signing, one relay verifying). */
  pairingsPerSecond: number;
  release(): Promise<void>;
}

/** Opens `count` idle sessions on the relay and keeps them until `release()`. */
export async function holdIdleSessions(ctx: BenchContext, relay: RelayPath, count: number): Promise<HeldSessions> {
  const fixture = fileURLToPath(new URL("./fixtures/idle_legs.ts", import.meta.url));
  const prefix = `idle-${crypto.randomUUID()}`;
  const [a, b] = BENCH_LEG_ATSIGNS;
  const side = (s: "a" | "b", me: string, peer: string) =>
    ctx.spawn([process.execPath, fixture, String(relay.port), s, String(count), prefix, BENCH_RELAY_ATSIGN, me, peer, relay.privateKeysFile], {
      ready: /^paired (\d+) in (\d+) ms/,
      readyTimeoutMs: IDLE_PAIRING_TIMEOUT_MS,
    });
  const children = await Promise.all([side("a", a, b), side("b", b, a)]);
  const ms = Math.max(...children.map((c) => Number(c.ready[2])));
  return {
    sessions: count,
    pairingsPerSecond: (count * 1000) / ms,
    release: async () => void (await Promise.all(children.map((c) => c.stop()))),
  };
}
