/**
 * The in-process cache in front of a shared registry (PostgreSQL): found answers kept until a notification
 * says the row changed, misses kept briefly, both bounded in entries (least recently used goes first).
 *
 * Two rules keep it from serving stale answers: an answer fetched while an invalidation arrived is not kept
 * (the `epoch` check), and while notifications may be missed (`live` false: the LISTEN connection is down or
 * its probe is overdue) nothing is cached and every lookup goes to the store.
 */

/** Bounds of the cache. */
export interface RegistryCacheLimits {
  /** Most found answers kept: ~400 bytes each in RSS (the bench: 50,000 cached, +20 MiB), so 100,000 ≈ 40 MiB. */
  maxEntries: number;
  /** Most misses kept; separate, so a flood of unknown names cannot push out the found answers. */
  maxMisses: number;
  /** How long a miss is kept, ms: a registration elsewhere also clears it through its notification. */
  missTtlMs: number;
}

export const REGISTRY_CACHE_DEFAULT_LIMITS: RegistryCacheLimits = { maxEntries: 100_000, maxMisses: 10_000, missTtlMs: 2_000 };

/** The cache's state and counters. */
export interface RegistryCache {
  limits: RegistryCacheLimits;
  found: Map<string, string>;
  /** key -> time (ms) the miss expires. */
  missed: Map<string, number>;
  /** Bumped by every invalidation; a fetch that started under an older epoch is answered but not kept. */
  epoch: number;
  /** True while invalidations are known to arrive; false: bypass (see the module comment). */
  live: boolean;
  hits: number;
  fetches: number;
  flushes: number;
}

export function newRegistryCache(limits: Partial<RegistryCacheLimits> = {}): RegistryCache {
  return { limits: { ...REGISTRY_CACHE_DEFAULT_LIMITS, ...limits }, found: new Map(), missed: new Map(), epoch: 0, live: false, hits: 0, fetches: 0, flushes: 0 };
}

/** The cached answer (an address or null for a known miss), or undefined when the store must be asked. */
export function cacheGet(c: RegistryCache, key: string): string | null | undefined {
  const address = c.found.get(key);
  if (address !== undefined) {
    // Re-inserting moves the key to the young end of the Map's order, which eviction takes from the old end.
    c.found.delete(key);
    c.found.set(key, address);
    c.hits++;
    return address;
  }
  const until = c.missed.get(key);
  if (until !== undefined) {
    if (until > Date.now()) {
      c.hits++;
      return null;
    }
    c.missed.delete(key);
  }
  c.fetches++;
  return undefined;
}

/** Keeps what the store answered for `key`, unless an invalidation came since `epoch` or the cache is not live. */
export function cacheFill(c: RegistryCache, key: string, address: string | null, epoch: number): void {
  if (!c.live || epoch !== c.epoch) return;
  if (address === null) {
    c.missed.set(key, Date.now() + c.limits.missTtlMs);
    evictOldest(c.missed, c.limits.maxMisses);
  } else {
    c.found.set(key, address);
    evictOldest(c.found, c.limits.maxEntries);
  }
}

function evictOldest(m: Map<string, unknown>, max: number): void {
  while (m.size > max) m.delete(m.keys().next().value!);
}

/** Forgets `key` (its row changed). */
export function cacheInvalidate(c: RegistryCache, key: string): void {
  c.epoch++;
  c.found.delete(key);
  c.missed.delete(key);
}

/** Forgets everything, and sets whether answers may be kept from now on. */
export function cacheFlush(c: RegistryCache, live: boolean): void {
  c.epoch++;
  c.found.clear();
  c.missed.clear();
  c.flushes++;
  c.live = live;
}
