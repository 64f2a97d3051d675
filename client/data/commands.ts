/**
 * The request lines the data API sends, built with core/verbs (metadata in the reference's canonical order,
 * so the strict reference grammar accepts them too). Keys here are core/verbs KeyRefs.
 */
import { buildCommand, type KeyRef as WireKey, type MetadataPatch } from "../../core/verbs/index.ts";

/** A key as core/verbs builds it (`[public:|@with:]name[@owner]`). */
export type { WireKey };

/** Timing options of a put (ms, as on the wire; for ttr -1 means "cache forever"). */
export interface TimingOptions {
  /** Time to live: the key expires this long after the put. */
  ttl?: number;
  /** Time to birth: the key becomes readable this long after the put. */
  ttb?: number;
  /** Time to refresh: how long readers may cache the value (-1 = cache forever). */
  ttr?: number;
  /** Cascade delete: cached copies go when the original is deleted. */
  ccd?: boolean;
}

/** Metadata an update carries. */
export type UpdateMeta = MetadataPatch;

/** `update<meta>:<key> <value>`. */
export function updateLine(key: WireKey, value: string, metadata: UpdateMeta = {}): string {
  return buildCommand({ verb: "update", key, metadata, value });
}

/** `llookup:all:<key>`: the owner's own record with metadata. */
export function llookupAllLine(key: WireKey & { owner: string }): string {
  return buildCommand({ verb: "llookup", operation: "all", key });
}

/** `lookup:all:<name>@<owner>`: a key of another @sign (or a public key, unauthenticated). */
export function lookupAllLine(name: string, atSign: string): string {
  return buildCommand({ verb: "lookup", operation: "all", name, atSign });
}

/** `lookup:<name>@<owner>`: just the value. */
export function lookupLine(name: string, atSign: string): string {
  return buildCommand({ verb: "lookup", name, atSign });
}

/** `plookup[:bypassCache:true]:<name>@<atSign>`: another @sign's public value, through my own atServer. */
export function plookupLine(name: string, atSign: string, bypassCache: boolean): string {
  return buildCommand({ verb: "plookup", name, atSign, ...(bypassCache ? { bypassCache: true } : {}) });
}

/** `delete:<key>`. */
export function deleteLine(key: WireKey): string {
  return buildCommand({ verb: "delete", key });
}

/** `scan[ <regex>]`. */
export function scanLine(regex?: string): string {
  return buildCommand(regex ? { verb: "scan", regex } : { verb: "scan" });
}
