/**
 * Call counters a capability verifier keeps locally (no call home): total calls for `max_calls` caveats and
 * a per-minute rate for `rpm` caveats. Counters are keyed by the caveat's chain key, so a budget counts the
 * calls of every token that carries that caveat (the original and all its attenuations), and nothing else.
 *
 * Bounded: at most `maxEntries` counters. Rate counters free themselves after two windows; call counters
 * free themselves when the token's expiry passes. When the store is full of live counters a new one is
 * refused rather than an old one dropped: dropping a budget would hand its holder a fresh one.
 */

/** Default bound on live counters (about 100 bytes each). */
export const MAX_COUNTER_ENTRIES = 100_000;
/** Length of the `rpm` window. */
export const RATE_WINDOW_MS = 60_000;
/** A full store is swept for expired counters at most this often (a sweep walks every entry). */
export const COUNTER_SWEEP_INTERVAL_MS = 1_000;

/** One counter a call would touch. */
export interface CounterUse {
  kind: "calls" | "rate";
  /** Hex chain key of the caveat. */
  key: string;
  /** Limit from the caveat. */
  limit: number;
  /** When the token stops being valid (unix ms), or Infinity; call counters are kept until then. */
  expiresAt: number;
}

interface Calls {
  count: number;
  expiresAt: number;
}
interface Rate {
  windowStart: number;
  count: number;
  previous: number;
}

/** Why `take` counted nothing. */
export type CounterRefusal = { reason: "calls_exhausted" | "rate_limited" | "counter_store_full"; detail: string };

/** Bounded per-caveat call counters with an injected clock (pass `now` to every call). */
export class CallCounters {
  #calls = new Map<string, Calls>();
  #rates = new Map<string, Rate>();
  #nextSweep = 0;

  constructor(readonly maxEntries: number = MAX_COUNTER_ENTRIES) {}

  /** Live counters (both kinds). */
  get size(): number {
    return this.#calls.size + this.#rates.size;
  }

  /**
   * Counts one call against every counter in `uses`, all or nothing: when any limit is reached, or the
   * store has no room for a new counter, nothing is counted and the refusal says which.
   */
  take(uses: readonly CounterUse[], now: number): CounterRefusal | null {
    let fresh = 0;
    for (const u of uses) {
      if (u.kind === "calls") {
        const used = this.#calls.get(u.key)?.count ?? 0;
        if (!this.#calls.has(u.key)) fresh++;
        if (used >= u.limit) return { reason: "calls_exhausted", detail: `all ${u.limit} calls used` };
      } else {
        const r = this.#rates.get(u.key);
        if (!r) fresh++;
        if (r && estimate(roll(r, now), now) + 1 > u.limit) return { reason: "rate_limited", detail: `more than ${u.limit} calls per minute` };
      }
    }
    if (fresh > 0 && this.size + fresh > this.maxEntries) {
      this.#sweep(now);
      if (this.size + fresh > this.maxEntries) return { reason: "counter_store_full", detail: `${this.maxEntries} live counters` };
    }
    for (const u of uses) {
      if (u.kind === "calls") {
        const c = this.#calls.get(u.key);
        if (c) c.count++;
        else this.#calls.set(u.key, { count: 1, expiresAt: u.expiresAt });
      } else {
        const r = this.#rates.get(u.key);
        if (r) roll(r, now).count++;
        else this.#rates.set(u.key, { windowStart: windowOf(now), count: 1, previous: 0 });
      }
    }
    return null;
  }

  #sweep(now: number): void {
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + COUNTER_SWEEP_INTERVAL_MS;
    for (const [k, c] of this.#calls) if (c.expiresAt <= now) this.#calls.delete(k);
    for (const [k, r] of this.#rates) if (now - r.windowStart >= 2 * RATE_WINDOW_MS) this.#rates.delete(k);
  }
}

function windowOf(now: number): number {
  return now - (now % RATE_WINDOW_MS);
}

/** Moves `r` to the window containing `now`, keeping the last window's count for the estimate. */
function roll(r: Rate, now: number): Rate {
  const w = windowOf(now);
  if (w === r.windowStart) return r;
  r.previous = w - r.windowStart === RATE_WINDOW_MS ? r.count : 0;
  r.windowStart = w;
  r.count = 0;
  return r;
}

/**
 * Calls in the last minute, estimated from two fixed windows (the previous one weighted by how much of it
 * still overlaps the last 60 s). Smooths the 2x burst a plain fixed window allows at its boundary.
 */
function estimate(r: Rate, now: number): number {
  const overlap = (RATE_WINDOW_MS - (now - r.windowStart)) / RATE_WINDOW_MS;
  return r.count + r.previous * overlap;
}
