/**
 * Limits failed authentication attempts per network address, per network prefix (/24, /64) and in total, so a
 * client cannot guess CRAM secrets or OTPs by opening connection after connection, nor by spreading its guesses
 * over many addresses. (Per-connection counting lives on the connection.)
 *
 * The total budget counts only guesses at a secret (CRAM, OTP): a PKAM signature cannot be guessed, so a flood
 * of bad signatures from many networks must not lock the owner out of PKAM. A flood of bad CRAM digests or OTPs
 * can hold back CRAM and OTP enrollment for the rest of a window (at most AUTH_THROTTLE_WINDOW_MS); that is the
 * price of a bound on guesses that does not depend on how many addresses an attacker has.
 *
 * The maps are bounded: when full, the oldest key is forgotten, which at worst hands a fresh per-address budget to
 * an attacker with more than AUTH_THROTTLE_MAX_ADDRESSES addresses — the prefix and total budgets still hold.
 */
import { canonicalAddress, networkPrefix } from "../core/net/address_prefix.ts";
import { countEvent, newWindowCounter, retryAfterMs, type WindowCounter } from "../core/net/window_counter.ts";

/** Failed attempts one address may make within AUTH_THROTTLE_WINDOW_MS before further attempts are refused. */
export const AUTH_FAILURES_PER_ADDRESS_MAX = 30;
/** Failed attempts one /24 (IPv4) or /64 (IPv6) may make within AUTH_THROTTLE_WINDOW_MS. */
export const AUTH_FAILURES_PER_PREFIX_MAX = 60;
/** Failed guesses at a secret (CRAM digest, OTP) from everywhere together within AUTH_THROTTLE_WINDOW_MS. */
export const AUTH_SECRET_FAILURES_TOTAL_MAX = 120;
/** Window over which failures are counted. */
export const AUTH_THROTTLE_WINDOW_MS = 60_000;
/** Addresses (and, separately, prefixes) tracked at once. */
export const AUTH_THROTTLE_MAX_ADDRESSES = 10_000;
/** Failed attempts one connection may make before further attempts on it are refused. */
export const AUTH_FAILURES_PER_CONNECTION_MAX = 5;

/** `secret`: a guessable secret (CRAM digest, OTP); `signature`: a PKAM signature. */
export type AuthAttempt = "secret" | "signature";

/** Failure counts per address, per prefix and in total. */
export interface AuthThrottle {
  /** Milliseconds until `address` may try an attempt of this kind again, or 0 when it may try now. */
  retryAfterMs(address: string, attempt: AuthAttempt, now?: number): number;
  /** Records one failed attempt from `address`. */
  fail(address: string, attempt: AuthAttempt, now?: number): void;
}

const TOTAL = "all";

/** Creates an empty throttle. */
export function newAuthThrottle(): AuthThrottle {
  const counter = (max: number, maxKeys: number) => newWindowCounter({ max, windowMs: AUTH_THROTTLE_WINDOW_MS, maxKeys });
  const byAddress = counter(AUTH_FAILURES_PER_ADDRESS_MAX, AUTH_THROTTLE_MAX_ADDRESSES);
  const byPrefix = counter(AUTH_FAILURES_PER_PREFIX_MAX, AUTH_THROTTLE_MAX_ADDRESSES);
  const total = counter(AUTH_SECRET_FAILURES_TOTAL_MAX, 1);
  const keyed = (address: string, attempt: AuthAttempt): [WindowCounter, string][] => {
    const pairs: [WindowCounter, string][] = [
      [byAddress, canonicalAddress(address)],
      [byPrefix, networkPrefix(address)],
    ];
    if (attempt === "secret") pairs.push([total, TOTAL]);
    return pairs;
  };
  return {
    retryAfterMs: (address, attempt, now) => Math.max(...keyed(address, attempt).map(([c, k]) => retryAfterMs(c, k, now))),
    fail: (address, attempt, now) => {
      for (const [c, k] of keyed(address, attempt)) countEvent(c, k, now);
    },
  };
}
