/**
 * How `update` / `update:meta` change a key's metadata (ATPROTOCOL.md §5.4): fields not mentioned are kept,
 * the literal `null` clears one, 0 means "unset" for ttl/ttb/ttr, and the derived times are recomputed from now
 * (expiresAt = now + ttl + ttb, availableAt = now + ttb, refreshAt = now + ttr seconds — the reference adds ttr
 * as seconds).
 */
import type { MetadataPatch } from "../core/verbs/command.ts";
import { checkTimeLimit } from "../core/verbs/index.ts";
import { AtProtocolError } from "../core/wire/index.ts";
import type { StoredMeta } from "./store/keystore.ts";

const COPIED = [
  "isBinary",
  "isEncrypted",
  "dataSignature",
  "sharedKeyEnc",
  "pubKeyCS",
  "encoding",
  "encKeyName",
  "encAlgo",
  "ivNonce",
  "skeEncKeyName",
  "skeEncAlgo",
  "pubKeyHash",
  "hashingAlgo",
] as const satisfies readonly (keyof MetadataPatch & keyof StoredMeta)[];

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
  const meta: StoredMeta = {
    createdBy: existing?.createdBy ?? atSign,
    updatedBy: atSign,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    version: existing ? existing.version + 1 : 0,
  };
  const ttl = pick(patch.ttl, existing?.ttl, true);
  const ttb = pick(patch.ttb, existing?.ttb, true);
  const ttr = pick(patch.ttr, existing?.ttr, true);
  if (ttl !== undefined) meta.ttl = ttl;
  if (ttb !== undefined) meta.ttb = ttb;
  if (ttr !== undefined) {
    meta.ttr = ttr;
    // ccd only means something with ttr; it defaults to false there and is dropped without it.
    meta.ccd = pick(patch.ccd, existing?.ccd) ?? false;
  }
  if (ttb !== undefined) meta.availableAt = now + ttb;
  if (ttl !== undefined) meta.expiresAt = now + ttl + (ttb ?? 0);
  if (ttr !== undefined && ttr > 0) meta.refreshAt = now + ttr * 1000;
  for (const f of COPIED) {
    const v = pick<string | boolean>(patch[f], existing?.[f]);
    if (v !== undefined) (meta as unknown as Record<string, unknown>)[f] = v;
  }
  return meta;
}

/** Whether a key with this metadata is readable now: past availableAt and before expiresAt. */
export function isActive(meta: StoredMeta, now = Date.now()): boolean {
  return (meta.availableAt === undefined || meta.availableAt <= now) && (meta.expiresAt === undefined || meta.expiresAt > now);
}
