/**
 * Limits failed authentication attempts per network address, so a client cannot guess CRAM secrets or PKAM
 * signatures by opening connection after connection. (Per-connection counting lives on the connection.)
 *
 * The map is bounded: when full, the oldest address is forgotten (Map keeps insertion order), which at worst
 * gives an attacker with more than AUTH_THROTTLE_MAX_ADDRESSES addresses a fresh budget — acceptable, since
 * each attempt still has to guess a 512-bit digest or forge a signature.
 */
import { countEvent, newWindowCounter, retryAfterMs } from "../core/net/window_counter.ts";

/** Failed attempts one address may make within AUTH_THROTTLE_WINDOW_MS before further attempts are refused. */
export const AUTH_FAILURES_PER_ADDRESS_MAX = 30;
/** Window over which an address's failures are counted. */
export const AUTH_THROTTLE_WINDOW_MS = 60_000;
/** Addresses tracked at once. */
export const AUTH_THROTTLE_MAX_ADDRESSES = 10_000;
/** Failed attempts one connection may make before further attempts on it are refused. */
export const AUTH_FAILURES_PER_CONNECTION_MAX = 5;

/** Failure counts per address. */
export interface AuthThrottle {
  /** Milliseconds until `address` may try again, or 0 when it may try now. */
  retryAfterMs(address: string, now?: number): number;
  /** Records one failed attempt from `address`. */
  fail(address: string, now?: number): void;
}

/** Creates an empty throttle. */
export function newAuthThrottle(): AuthThrottle {
  const byAddress = newWindowCounter({
    max: AUTH_FAILURES_PER_ADDRESS_MAX,
    windowMs: AUTH_THROTTLE_WINDOW_MS,
    maxKeys: AUTH_THROTTLE_MAX_ADDRESSES,
  });
  return {
    retryAfterMs: (address, now) => retryAfterMs(byAddress, address, now),
    fail: (address, now) => countEvent(byAddress, address, now),
  };
}
