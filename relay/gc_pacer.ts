/**
 * Full garbage collections paced by the relay's own activity.
 *
 * Why: every `data` event hands the relay a fresh buffer, and every session leaves its sockets, handshake state
 * and promises behind when it ends. pipe.ts frees the big buffers at once, but what is left still waits for
 * JSC's collector, which runs too late for a process whose live heap is a few MiB: measured with
 * relay/measure/relay_memory.ts (3 rounds of sessions against one relay, bundled), peak RSS went from 71 to 59 MiB
 * with 100 busy streams and from 112 to 66 MiB with 1,000, at the same throughput, with a full collection at
 * most every 200 ms. A collection of such a small heap takes a few ms, so the pacer only collects after real
 * work (bytes forwarded, connections handled), never on an idle relay, and keeps the time spent collecting
 * under a fixed share even when the heap is large (10,000 idle sessions).
 */

/** When collections are due. */
export interface GcPacing {
  /** Activity (bytes forwarded plus a weight per connection) after which a collection is due. */
  activityPerCollection: number;
  /** Activity one accepted connection counts for (its sockets and handshake leave garbage behind). */
  activityPerConnection: number;
  /** Shortest time between two collections; also the period at which the relay checks. */
  minIntervalMs: number;
  /** Largest share of time spent collecting: a collection that took d ms delays the next by d / share. */
  maxTimeShare: number;
}

/** Default pacing (see the module comment for the measurements behind it). */
export const DEFAULT_GC_PACING: GcPacing = {
  activityPerCollection: 64 * 1024 * 1024,
  activityPerConnection: 256 * 1024,
  minIntervalMs: 200,
  maxTimeShare: 0.02,
};

/** Collections run so far and the time they took. */
export interface GcStats {
  collections: number;
  collectMs: number;
}

/** Zeroed GC counters. */
export function newGcStats(): GcStats {
  return { collections: 0, collectMs: 0 };
}

/** Decides, at each check, whether to collect now. */
export interface GcPacer {
  /** `bytesForwarded` and `connections` are running totals; returns true when it collected. */
  check(bytesForwarded: number, connections: number): boolean;
}

/**
 * A pacer that calls `collect` (Bun.gc(true) in the relay) when enough activity happened since the last
 * collection and the time budget allows; `nowMs` is a monotonic clock; `stats` is updated in place.
 * @example const gc = newGcPacer(DEFAULT_GC_PACING, () => Bun.gc(true), () => performance.now(), newGcStats());
 */
export function newGcPacer(pacing: GcPacing, collect: () => void, nowMs: () => number, stats: GcStats): GcPacer {
  let activityAtLast = 0;
  let notBefore = 0;
  return {
    check(bytesForwarded, connections) {
      const activity = bytesForwarded + connections * pacing.activityPerConnection;
      const start = nowMs();
      if (activity - activityAtLast < pacing.activityPerCollection || start < notBefore) return false;
      collect();
      const end = nowMs();
      activityAtLast = activity;
      notBefore = end + Math.max(pacing.minIntervalMs, (end - start) / pacing.maxTimeShare);
      stats.collections++;
      stats.collectMs += end - start;
      return true;
    },
  };
}
