/**
 * Addresses whose handshakes keep failing: past a budget of failed legs (forged or malformed AUTH frames,
 * unknown @signs, throttled lookups, handshakes never finished) per address and per /24 or /64, their next
 * connections are closed at accept, before the relay writes a challenge or reads a byte. A legitimate leg
 * never fails this way, so it costs pairings nothing; a flood of bad AUTH frames costs an accept and a close.
 */
import { canonicalAddress, networkPrefix } from "../core/net/address_prefix.ts";
import { countEvent, newWindowCounter, retryAfterMs, type WindowCounter } from "../core/net/window_counter.ts";
import type { RefuseReason } from "./metrics.ts";

/** What the penalty box allows. */
export interface PenaltyLimits {
  /** Failed legs one address may have per window before its newcomers are closed at accept. */
  failedLegsPerAddress: number;
  /** The same for one /24 (IPv4) or /64 (IPv6). */
  failedLegsPerPrefix: number;
  /** Length of the window (ms). */
  failedLegsWindowMs: number;
}

/** Addresses and prefixes tracked at once (each bounded map forgets its oldest). */
export const PENALTY_KEYS_MAX = 10_000;

/** Refusals that only a stranger's own fault causes (not capacity, quotas, draining or a missing peer). */
const PENALIZED: ReadonlySet<RefuseReason> = new Set<RefuseReason>(["malformed", "oversize", "preauth_timeout", "unknown_atsign", "bad_signature", "lookup_throttled", "not_allowed"]);

/** Failed legs per address and per prefix. */
export interface PenaltyBox {
  readonly byAddress: WindowCounter;
  readonly byPrefix: WindowCounter;
}

export function newPenaltyBox(limits: PenaltyLimits): PenaltyBox {
  const counter = (max: number) => newWindowCounter({ max, windowMs: limits.failedLegsWindowMs, maxKeys: PENALTY_KEYS_MAX });
  return { byAddress: counter(limits.failedLegsPerAddress), byPrefix: counter(limits.failedLegsPerPrefix) };
}

/** Counts a refused leg against its address and prefix, when the refusal was the leg's own fault. */
export function notePenalty(box: PenaltyBox, address: string, reason: RefuseReason, now = Date.now()): void {
  if (!PENALIZED.has(reason)) return;
  countEvent(box.byAddress, canonicalAddress(address), now);
  countEvent(box.byPrefix, networkPrefix(address), now);
}

/** Whether a new connection from `address` is to be closed at accept. */
export function penalized(box: PenaltyBox, address: string, now = Date.now()): boolean {
  return retryAfterMs(box.byAddress, canonicalAddress(address), now) > 0 || retryAfterMs(box.byPrefix, networkPrefix(address), now) > 0;
}
