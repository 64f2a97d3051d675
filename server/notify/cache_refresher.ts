/**
 * Refreshes stale `cached:@me:<k>@<other>` copies in the background (ATPROTOCOL.md §3.2, §5.7): a copy with
 * ttr > 0 whose refreshAt passed is fetched again from @other's server over the pol pool; a remote miss
 * deletes it (which is how a copy without cascade delete learns that the original is gone). Lookups also
 * refresh lazily; this job keeps copies nobody reads from going stale forever.
 */
import { errorKind, logger } from "../../core/log.ts";
import type { ServerContext } from "../context.ts";
import { lookupSharedOfOther } from "./shared_cache.ts";

/** Default period of the refresh job. */
export const CACHE_REFRESH_INTERVAL_MS = 10 * 60_000;
/** Copies refreshed per round (each is one remote lookup). */
export const CACHE_REFRESH_BATCH = 100;

const log = logger("cache");

/** The running job. */
export interface CacheRefresher {
  /** Runs one round now (tests); resolves when it is done. */
  runOnce(): Promise<void>;
  stop(): void;
}

/**
 * Starts the job for `ctx`.
 * @example const job = startCacheRefresher(ctx); job.stop();
 */
export function startCacheRefresher(ctx: ServerContext, intervalMs = CACHE_REFRESH_INTERVAL_MS): CacheRefresher {
  const prefix = `cached:${ctx.atSign}:`;
  let running: Promise<void> | null = null;
  let stopped = false;

  const round = async () => {
    const now = Date.now();
    const stale: { atSign: string; name: string; cacheKey: string }[] = [];
    for (const key of ctx.keystore.keys()) {
      if (stale.length >= CACHE_REFRESH_BATCH) break;
      if (!key.startsWith(prefix)) continue;
      const meta = ctx.keystore.get(key)?.meta;
      if (!meta || meta.ttr === undefined || meta.ttr <= 0 || meta.refreshAt === undefined || meta.refreshAt > now) continue;
      const at = key.lastIndexOf("@");
      stale.push({ atSign: key.slice(at), name: key.slice(prefix.length, at), cacheKey: key });
    }
    for (const target of stale) {
      if (stopped) return;
      try {
        await lookupSharedOfOther(ctx, target, undefined, true);
      } catch (err) {
        // A miss already removed the copy; an unreachable owner is tried again next round.
        log.debug("cache refresh failed", { error: errorKind(err) });
      }
    }
  };
  const runOnce = () => (running ??= round().finally(() => (running = null)));
  const timer = setInterval(() => void runOnce(), intervalMs);
  timer.unref();
  return {
    runOnce,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
