/**
 * How `update` / `update:meta` change a key's metadata (ATPROTOCOL.md §5.4): fields not mentioned are kept,
 * the literal `null` clears one, 0 means "unset" for ttl/ttb/ttr, and the derived times are recomputed from now
 * (expiresAt = now + ttl + ttb, availableAt = now + ttb, refreshAt = now + ttr seconds — the reference adds ttr
 * as seconds); a write that names neither a time nor its ttl/ttb keeps the stored expiresAt/availableAt. The caller may assert the times instead (at_commons 5.10's cAt/uAt/eAt/aAt, at_server 3.16.3): an
 * asserted time is stored (to the millisecond) and suppresses the derivation of that axis, and a relative the
 * request left out is derived from it, so every server computes the same record from the same assertions.
 */
import type { MetadataPatch } from "../core/verbs/command.ts";
import { checkTimeLimit, metadataFieldsOf } from "../core/verbs/index.ts";
import { AtProtocolError, DART_DATE_LIMIT_MS } from "../core/wire/index.ts";
import type { StoredMeta } from "./store/keystore.ts";

// Every text and flag field of the request metadata is stored as given; ccd lives with ttr, sharedKeyStatus is
// never stored (the reference's rule).
const COPIED = [...metadataFieldsOf("text"), ...metadataFieldsOf("bool"), ...metadataFieldsOf("appMetadata")].filter(
  (f): f is Exclude<typeof f, "ccd" | "sharedKeyStatus"> => f !== "ccd" && f !== "sharedKeyStatus",
);

/** True when the patch mentions any field (an `update` with metadata commits as `*`, without as `+`). */
export function patchIsEmpty(patch: MetadataPatch): boolean {
  return Object.values(patch).every((v) => v === undefined);
}

// The upper limits are the parser's (core/verbs), checked again here for update:json, whose metadata is JSON.
function checkTimes(patch: MetadataPatch): void {
  for (const f of ["ttl", "ttb", "ttr"] as const) if (patch[f] != null) checkTimeLimit(f, patch[f]);
  if (patch.ttl != null && patch.ttl < 0) throw new AtProtocolError("AT0003", `Invalid syntax. ttl must be 0 or more, got ${patch.ttl}`);
  if (patch.ttb != null && patch.ttb < 0) throw new AtProtocolError("AT0003", `Invalid syntax. ttb must be 0 or more, got ${patch.ttb}`);
  if (patch.ttr != null && patch.ttr < -1) throw new AtProtocolError("AT0003", `Invalid syntax. ttr must be -1, 0 or more, got ${patch.ttr}`);
}

/** Picks the patched value: absent keeps `old`, null clears, 0 clears for times. */
function pick<T>(patched: T | null | undefined, old: T | undefined, zeroClears = false): T | undefined {
  if (patched === undefined) return old;
  if (patched === null || (zeroClears && patched === 0)) return undefined;
  return patched;
}

/**
 * The metadata after applying `patch` to `existing` (null for a new key) at `now`, written by `atSign`.
 * Throws AT0003 for negative ttl/ttb, ttr below -1, or any of them past METADATA_TIME_LIMITS.
 */
export function applyMetadata(existing: StoredMeta | null, patch: MetadataPatch, atSign: string, now = Date.now()): StoredMeta {
  checkTimes(patch);
  const asserted = assertedTimes(patch);
  const updatedAt = asserted.uAt ?? now;
  const meta: StoredMeta = {
    createdBy: existing?.createdBy ?? atSign,
    updatedBy: atSign,
    createdAt: asserted.cAt ?? existing?.createdAt ?? now,
    updatedAt,
    version: existing ? existing.version + 1 : 0,
  };
  const born = asserted.aAt !== undefined && asserted.aAt > updatedAt ? asserted.aAt : updatedAt;
  // A relative the request left out is derived from its asserted absolute; a non-positive one clears it.
  const impliedTtb = asserted.aAt === undefined || patch.ttb != null ? patch.ttb : positiveOrNull(asserted.aAt - updatedAt);
  const impliedTtl = asserted.eAt === undefined || patch.ttl != null ? patch.ttl : positiveOrNull(asserted.eAt - born);
  const ttl = pick(impliedTtl, existing?.ttl, true);
  const ttb = pick(impliedTtb, existing?.ttb, true);
  const ttr = pick(patch.ttr, existing?.ttr, true);
  if (ttl !== undefined) meta.ttl = ttl;
  if (ttb !== undefined) meta.ttb = ttb;
  if (ttr !== undefined) {
    meta.ttr = ttr;
    // ccd only means something with ttr; it defaults to false there and is dropped without it.
    meta.ccd = pick(patch.ccd, existing?.ccd) ?? false;
  }
  // Once set, an absolute moves only when the request speaks about its axis (3.16.3): a write that names no
  // time keeps the stored one instead of restarting the clock from the kept ttl/ttb.
  const availableAt = asserted.aAt ?? (patch.ttb != null ? restamped(now, patch.ttb, existing) : ttb !== undefined ? (existing?.availableAt ?? now + ttb) : undefined);
  const expiresAt =
    asserted.eAt ?? (patch.ttl ? now + patch.ttl + (patch.ttb ?? 0) : ttl !== undefined && patch.ttl === undefined ? (existing?.expiresAt ?? now + ttl + (ttb ?? 0)) : undefined);
  if (availableAt !== undefined) meta.availableAt = availableAt;
  if (expiresAt !== undefined) meta.expiresAt = expiresAt;
  if (ttr !== undefined && ttr > 0) meta.refreshAt = now + ttr * 1000;
  for (const f of COPIED) {
    const v = pick<string | boolean>(patch[f], existing?.[f]);
    if (v !== undefined) (meta as unknown as Record<string, unknown>)[f] = v;
  }
  return meta;
}

// ttb:0 on a record born later re-stamps its birth to now; on one without a birth time it sets none.
const restamped = (now: number, ttb: number, existing: StoredMeta | null): number | undefined =>
  ttb > 0 ? now + ttb : existing?.availableAt !== undefined ? now : undefined;

const positiveOrNull = (ms: number): number | null => (ms > 0 ? ms : null);

/** The request's asserted times in epoch ms (truncated to the millisecond, as the reference stores them). */
function assertedTimes(patch: MetadataPatch): Partial<Record<"cAt" | "uAt" | "eAt" | "aAt", number>> {
  const out: Partial<Record<"cAt" | "uAt" | "eAt" | "aAt", number>> = {};
  for (const f of metadataFieldsOf("date")) {
    const text = patch[f];
    if (text != null) out[f] = assertedMillis(f, text);
  }
  return out;
}

/**
 * Epoch ms of an asserted time (`cAt`…`aAt`, `dAt`); AT0003 when it is past the dates a client can read back.
 * @example assertedMillis("dAt", "2026-05-05T11:59:44.123456Z") // 1777982384123
 */
export function assertedMillis(field: string, text: string): number {
  const ms = isoMillis(text);
  if (ms === null) throw new AtProtocolError("AT0003", `Invalid syntax. ${field} is not a time: ${text}`);
  return ms;
}

/**
 * Epoch ms of an ISO 8601 UTC time with any number of fraction digits (Date.parse takes at most three), or null
 * past the dates a Dart client can read back.
 * @example isoMillis("2026-05-05T11:59:44.123456Z") // 1777982384123
 */
export function isoMillis(text: string): number | null {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(text);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}.${(m[2] ?? "").padEnd(3, "0").slice(0, 3)}Z`);
  return Number.isFinite(ms) && Math.abs(ms) <= DART_DATE_LIMIT_MS ? ms : null;
}

/** Whether a key with this metadata is readable now: past availableAt and before expiresAt. */
export function isActive(meta: StoredMeta, now = Date.now()): boolean {
  return (meta.availableAt === undefined || meta.availableAt <= now) && (meta.expiresAt === undefined || meta.expiresAt > now);
}
