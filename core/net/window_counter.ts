/**
 * Counts events per key (an address, a network prefix, "all") in fixed windows, and says when a key has had its
 * share: the one mechanism behind every "N per minute per address" budget (auth failures, directory misses,
 * relay lookups). The map is bounded: when full, the oldest key is forgotten (Map keeps insertion order), which
 * hands at worst a fresh budget to a key that had been quiet longest; pair a per-address counter with a
 * per-prefix and a total one where that matters.
 */

/** What a counter allows. */
export interface WindowLimits {
  /** Events one key may have within a window before `retryAfterMs` is non-zero. */
  max: number;
  /** Length of a window, in milliseconds. */
  windowMs: number;
  /** Keys tracked at once. */
  maxKeys: number;
}

interface Window {
  start: number;
  count: number;
}

/** A counter: its limits and the open windows. */
export interface WindowCounter {
  readonly limits: WindowLimits;
  readonly windows: Map<string, Window>;
}

export function newWindowCounter(limits: WindowLimits): WindowCounter {
  return { limits, windows: new Map() };
}

function openWindow(counter: WindowCounter, key: string, now: number): Window | undefined {
  const w = counter.windows.get(key);
  if (w && now - w.start >= counter.limits.windowMs) {
    counter.windows.delete(key);
    return undefined;
  }
  return w;
}

/** Milliseconds until `key` is under its budget again, or 0 when it is under it now. */
export function retryAfterMs(counter: WindowCounter, key: string, now = Date.now()): number {
  const w = openWindow(counter, key, now);
  return w && w.count >= counter.limits.max ? w.start + counter.limits.windowMs - now : 0;
}

/** Records one event for `key`. */
export function countEvent(counter: WindowCounter, key: string, now = Date.now()): void {
  const w = openWindow(counter, key, now);
  if (w) {
    w.count++;
    return;
  }
  if (counter.windows.size >= counter.limits.maxKeys) counter.windows.delete(counter.windows.keys().next().value!);
  counter.windows.set(key, { start: now, count: 1 });
}
