/**
 * Stored records → the reference's payloads (formatted by core/verbs), and cached copies of other servers'
 * records.
 */
import type { LookupOperation } from "../core/verbs/command.ts";
import { AT_METADATA_TEXT_FIELDS, lookupAllJson, metadataJson, timeWithinLimit, type AtMetadata } from "../core/verbs/index.ts";
import { parseDartDate } from "../core/wire/index.ts";
import type { RemoteRecord } from "./remote_lookup.ts";
import type { StoredMeta, StoredRecord } from "./store/keystore.ts";

/** How long a cached public record without ttr is kept (the reference's 24 h). */
export const PUBLIC_CACHE_TTL_MS = 24 * 60 * 60_000;

/** The stored metadata in the shared AtMetadata shape (every stored key is active). */
export function atMetadata(m: StoredMeta): AtMetadata {
  return { ...m, status: "active" };
}

/** The payload of llookup/lookup for a stored record: value, metadata JSON, or the `all` object. */
export function lookupAnswer(operation: LookupOperation | undefined, r: StoredRecord): string | null {
  if (operation === "meta") return metadataJson(atMetadata(r.meta));
  if (operation === "all") return lookupAllJson(r.key, r.value, atMetadata(r.meta));
  return r.value;
}

/** The payload for a record fetched fresh from another server (its key is the non-cached name). */
export function remoteAnswer(operation: LookupOperation | undefined, key: string, r: RemoteRecord): string | null {
  const metaData = Object.fromEntries(Object.entries(r.metaData).filter(([, v]) => v !== null && v !== undefined));
  if (operation === "meta") return JSON.stringify(metaData);
  if (operation === "all") return JSON.stringify({ key, data: r.data, metaData });
  return r.data;
}

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : undefined);
const bool = (v: unknown) => (typeof v === "boolean" ? v : v === "true" ? true : v === "false" ? false : undefined);
const text = (v: unknown) => (typeof v === "string" && v !== "" && v !== "null" ? v : undefined);

/**
 * Metadata for the cached copy of a remote public record, or null when it must not be cached. Cached when
 * the remote ttr is -1 or positive (and within METADATA_TIME_LIMITS); public records without ttr are kept 24 h; the public encryption key is
 * always cached with ttr -1.
 */
export function cachedMetaFromRemote(remote: Record<string, unknown>, atSign: string, old: StoredMeta | null, isPublicKey: boolean, now = Date.now()): StoredMeta | null {
  // A ttr past the limit (a hostile or broken peer) is ignored like a missing one: its refreshAt could not be written.
  let ttr = num(remote.ttr);
  if (ttr !== undefined && !timeWithinLimit("ttr", ttr)) ttr = undefined;
  if (isPublicKey) ttr = -1;
  // Data keys keep the origin's times (3.16.3); the public encryption key's createdAt says when THIS server
  // learned of it, which the key-change handling needs.
  const origin = (v: unknown) => (isPublicKey || typeof v !== "string" ? null : parseDartDate(v));
  const meta: StoredMeta = {
    createdBy: text(remote.createdBy) ?? atSign,
    updatedBy: atSign,
    createdAt: origin(remote.createdAt) ?? old?.createdAt ?? now,
    updatedAt: origin(remote.updatedAt) ?? now,
    version: old ? old.version + 1 : 0,
  };
  if (ttr === -1 || (ttr !== undefined && ttr > 0)) {
    meta.ttr = ttr;
    meta.ccd = bool(remote.ccd) ?? false;
    if (ttr > 0) meta.refreshAt = now + ttr * 1000;
  } else {
    meta.ttl = PUBLIC_CACHE_TTL_MS;
    meta.expiresAt = now + PUBLIC_CACHE_TTL_MS;
    meta.refreshAt = now + PUBLIC_CACHE_TTL_MS;
  }
  const remoteExpiry = typeof remote.expiresAt === "string" ? parseDartDate(remote.expiresAt) : null;
  if (remoteExpiry !== null) meta.expiresAt = Math.min(meta.expiresAt ?? Infinity, remoteExpiry);
  for (const f of AT_METADATA_TEXT_FIELDS) {
    const v = text(remote[f]);
    if (v !== undefined) meta[f] = v;
  }
  for (const f of ["isBinary", "isEncrypted"] as const) {
    const v = bool(remote[f]);
    if (v !== undefined) meta[f] = v;
  }
  return meta;
}
