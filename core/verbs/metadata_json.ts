/**
 * The metadata and value JSON the server sends for `llookup`/`lookup`/`plookup` with `meta` or `all`
 * (ATPROTOCOL.md §5.7), and the string-valued variant of sync entries (§7.2).
 */
import { dartDate } from "../wire/dart_date.ts";
import type { MetadataPatch } from "./command.ts";
import { metadataFieldsOf } from "./metadata_patch.ts";

/**
 * A stored key's metadata as the server keeps it: what a request can set (but `sharedKeyStatus`, which the
 * reference never stores; the asserted times arrive as the dates below) plus what the server maintains. Dates in epoch milliseconds; absent or null = not set.
 */
export interface AtMetadata extends Omit<MetadataPatch, "sharedKeyStatus" | "cAt" | "uAt" | "eAt" | "aAt"> {
  createdBy?: string | null;
  updatedBy?: string | null;
  createdAt?: number | null;
  updatedAt?: number | null;
  availableAt?: number | null;
  expiresAt?: number | null;
  refreshAt?: number | null;
  status?: string | null;
  version?: number | null;
}

/**
 * The request's text fields that AtMetaData JSON carries as plain strings (pubKeyHash and hashingAlgo travel as
 * the object `pubKeyHash: {hash, hashingAlgo}`; sharedKeyStatus is never stored).
 */
export const AT_METADATA_TEXT_FIELDS = metadataFieldsOf("text").filter((f) => f !== "pubKeyHash" && f !== "hashingAlgo" && f !== "sharedKeyStatus");

/** A value of the metadata JSON object. */
export type MetadataValue = string | number | boolean | { hash: string; hashingAlgo: string | null };

/** Field order of the reference's AtMetaData JSON; `date` fields are written as Dart date strings. */
export const AT_METADATA_FIELDS: readonly { name: keyof AtMetadata; date?: true }[] = [
  { name: "createdBy" },
  { name: "updatedBy" },
  { name: "createdAt", date: true },
  { name: "updatedAt", date: true },
  { name: "availableAt", date: true },
  { name: "expiresAt", date: true },
  { name: "refreshAt", date: true },
  { name: "status" },
  { name: "version" },
  { name: "ttl" },
  { name: "ttb" },
  { name: "ttr" },
  { name: "ccd" },
  { name: "isBinary" },
  { name: "isEncrypted" },
  { name: "dataSignature" },
  { name: "sharedKeyEnc" },
  { name: "pubKeyCS" },
  { name: "encoding" },
  { name: "encKeyName" },
  { name: "encAlgo" },
  { name: "ivNonce" },
  { name: "skeEncKeyName" },
  { name: "skeEncAlgo" },
  // The fields the reference added last (3.4, 3.14) come last, in the order of its metadata fragment.
  { name: "immutable" },
  { name: "appMetadata" },
];

/**
 * The metadata as an ordered object with nulls removed and dates as Dart strings; `stringify` turns every
 * value into its Dart `toString()` (the sync form).
 * @example metadataObject({ ttl: 5, createdAt: 0 }) // { createdAt: "1970-01-01 00:00:00.000Z", ttl: 5 }
 */
export function metadataObject(m: AtMetadata, stringify = false): Record<string, MetadataValue> {
  const out: Record<string, MetadataValue> = {};
  for (const f of AT_METADATA_FIELDS) {
    const v = m[f.name];
    if (v !== undefined && v !== null) {
      if (f.date) out[f.name] = dartDate(v as number);
      else out[f.name] = stringify ? String(v) : (v as string | number | boolean);
    }
    if (f.name === "pubKeyCS") addPubKeyHash(out, m, stringify);
  }
  return out;
}

// The hash goes right after pubKeyCS, as a nested object (Dart `Map.toString()` in the stringified sync form).
function addPubKeyHash(out: Record<string, MetadataValue>, m: AtMetadata, stringify: boolean): void {
  if (m.pubKeyHash == null) return;
  const hash = { hash: m.pubKeyHash, hashingAlgo: m.hashingAlgo ?? null };
  out.pubKeyHash = stringify ? `{hash: ${hash.hash}, hashingAlgo: ${hash.hashingAlgo}}` : hash;
}

/**
 * The `meta` response body: AtMetaData JSON in the reference field order, nulls removed.
 * @example metadataJson({ isEncrypted: true, ttl: 0 }) // '{"ttl":0,"isEncrypted":true}'
 */
export function metadataJson(m: AtMetadata): string {
  return JSON.stringify(metadataObject(m));
}

/**
 * The `all` response body: `{"key":..,"data":..,"metaData":{..}}`, nulls removed (a null value drops `data`).
 * @example lookupAllJson("public:x@alice", "v", {}) // '{"key":"public:x@alice","data":"v","metaData":{}}'
 */
export function lookupAllJson(key: string, value: string | null, m: AtMetadata): string {
  return JSON.stringify(value === null ? { key, metaData: metadataObject(m) } : { key, data: value, metaData: metadataObject(m) });
}

/** Commit log operation symbols: `+` value update, `#` metadata update, `*` both, `-` delete. */
export type CommitOperation = "+" | "#" | "*" | "-";

/** One entry of a `sync:from` page. */
export interface SyncEntry {
  atKey: string;
  value: string | null;
  metadata: AtMetadata | null;
  commitId: number;
  operation: CommitOperation;
}

/**
 * The JSON of one sync entry (§7.2): metadata values all strings, nulls omitted; value/metadata null for deletes.
 * @example syncEntryJson({ atKey: "k@a", value: null, metadata: null, commitId: 3, operation: "-" })
 *   // '{"atKey":"k@a","value":null,"metadata":null,"commitId":3,"operation":"-"}'
 */
export function syncEntryJson(e: SyncEntry): string {
  return JSON.stringify({
    atKey: e.atKey,
    value: e.value,
    metadata: e.metadata === null ? null : metadataObject(e.metadata, true),
    commitId: e.commitId,
    operation: e.operation,
  });
}

/**
 * A whole `sync:from` page body: `[entry,entry,...]`.
 * @example syncEntriesJson([]) // "[]"
 */
export function syncEntriesJson(entries: readonly SyncEntry[]): string {
  return `[${entries.map(syncEntryJson).join(",")}]`;
}
