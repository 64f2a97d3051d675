/**
 * Limits failed authentication attempts per network address, so a client cannot guess CRAM secrets or PKAM
 * signatures by opening connection after connection. (Per-connection counting lives on the connection.)
 *
 * The map is bounded: when full, the oldest address is forgotten (Map keeps insertion order), which at worst
 * gives an attacker with more than AUTH_THROTTLE_MAX_ADDRESSES addresses a fresh budget — acceptable, since
 * each attempt still has to guess a 512-bit digest or forge a signature.
 */

/** Failed attempts one address may make within AUTH_THROTTLE_WINDOW_MS before further attempts are refused. */
export const AUTH_FAILURES_PER_ADDRESS_MAX = 30;
/** Window over which an address's failures are counted. */
export const AUTH_THROTTLE_WINDOW_MS = 60_000;
/** Addresses tracked at once. */
export const AUTH_THROTTLE_MAX_ADDRESSES = 10_000;
/** Failed attempts one connection may make before further attempts on it are refused. */
export const AUTH_FAILURES_PER_CONNECTION_MAX = 5;

interface Window {
  start: number;
  failures: number;
}

/** Failure counts per address. */
export interface AuthThrottle {
  /** Milliseconds until `address` may try again, or 0 when it may try now. */
  retryAfterMs(address: string, now?: number): number;
  /** Records one failed attempt from `address`. */
  fail(address: string, now?: number): void;
}

/** Creates an empty throttle. */
export function newAuthThrottle(): AuthThrottle {
  const byAddress = new Map<string, Window>();
  const current = (address: string, now: number): Window | undefined => {
    const w = byAddress.get(address);
    if (w && now - w.start >= AUTH_THROTTLE_WINDOW_MS) {
      byAddress.delete(address);
      return undefined;
    }
    return w;
  };
  return {
    retryAfterMs(address, now = Date.now()) {
      const w = current(address, now);
      return w && w.failures >= AUTH_FAILURES_PER_ADDRESS_MAX ? w.start + AUTH_THROTTLE_WINDOW_MS - now : 0;
    },
    fail(address, now = Date.now()) {
      const w = current(address, now);
      if (w) {
        w.failures++;
        return;
      }
      if (byAddress.size >= AUTH_THROTTLE_MAX_ADDRESSES) byAddress.delete(byAddress.keys().next().value!);
      byAddress.set(address, { start: now, failures: 1 });
    },
  };
}
