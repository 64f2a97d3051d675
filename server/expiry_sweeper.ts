/**
 * Deletes keys whose TTL has run out, committing a `-` entry for each (the reference's default), so syncing
 * clients learn about the expiry. Instead of the reference's fixed 3-minute cron, the timer is armed for the
 * earliest expiry (at most SWEEP_MAX_INTERVAL_MS away) and re-armed when a write sets an earlier one.
 */
import { logger } from "../core/log.ts";
import { countSweep, type SweeperCounters } from "./metrics/server_metrics.ts";
import type { Keystore } from "./store/keystore.ts";

/** Longest sleep between sweeps, even when nothing is due (matches the reference's cron period). */
export const SWEEP_MAX_INTERVAL_MS = 3 * 60_000;
/** Keys deleted per sweep round; a larger backlog continues in the next round right away. */
export const SWEEP_BATCH_KEYS = 1_000;

const log = logger("server");

/** A running sweeper. */
export interface ExpirySweeper {
  /** Tells the sweeper a key now expires at `expiresAt` (epoch ms). */
  wake(expiresAt: number): void;
  stop(): void;
}

/** Starts sweeping `ks` now and whenever keys are due, counting its work in `counts`. */
export function startExpirySweeper(ks: Keystore, counts?: SweeperCounters): ExpirySweeper {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let dueAt = Infinity;
  let stopped = false;

  const arm = (at: number) => {
    if (stopped) return;
    const when = Math.min(at, Date.now() + SWEEP_MAX_INTERVAL_MS);
    if (timer && when >= dueAt) return;
    if (timer) clearTimeout(timer);
    dueAt = when;
    timer = setTimeout(sweep, Math.max(0, when - Date.now()));
    timer.unref();
  };
  const sweep = () => {
    timer = undefined;
    dueAt = Infinity;
    if (stopped) return;
    const now = Date.now();
    try {
      const keys = ks.expiredKeys(now, SWEEP_BATCH_KEYS);
      for (const key of keys) ks.remove(key);
      countSweep(counts, keys.length);
      if (keys.length === SWEEP_BATCH_KEYS) return arm(now);
    } catch (err) {
      countSweep(counts, null);
      log.error("expiry sweep failed", { error: String(err) });
    }
    arm(ks.nextExpiry() ?? Infinity);
  };
  sweep();
  return {
    wake: (expiresAt) => arm(expiresAt),
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
