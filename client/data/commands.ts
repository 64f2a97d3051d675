/**
 * Command lines the data API sends (ATPROTOCOL.md §5.4-§5.8), with metadata in the reference's canonical
 * order so that the strict reference grammar accepts them too.
 */

/** Timing options of a put (milliseconds, as on the wire; ttr is seconds-like per the reference, -1 = forever). */
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

/** Metadata fields an update can carry, beyond timing. */
export interface UpdateMeta extends TimingOptions {
  dataSignature?: string;
  isBinary?: boolean;
  isEncrypted?: boolean;
  sharedKeyEnc?: string;
  pubKeyCS?: string;
  encoding?: string;
  ivNonce?: string;
}

const ORDER = ["ttl", "ttb", "ttr", "ccd", "dataSignature", "isBinary", "isEncrypted", "sharedKeyEnc", "pubKeyCS", "encoding", "ivNonce"] as const;

/** The `:name:value` metadata pairs of `meta`, canonical order, absent fields left out. */
export function metaPairs(meta: UpdateMeta): string {
  let out = "";
  for (const field of ORDER) {
    const v = meta[field];
    if (v !== undefined) out += `:${field}:${v}`;
  }
  return out;
}

/**
 * `update<meta>:<key> <value>` for a full key (`public:x@alice`, `@bob:x@alice`, `x@alice`).
 * @example updateLine("x@alice", "v", { isEncrypted: true }) // "update:isEncrypted:true:x@alice v"
 */
export function updateLine(fullKey: string, value: string, meta: UpdateMeta = {}): string {
  return `update${metaPairs(meta)}:${fullKey} ${value}`;
}

/** `llookup:all:<key>`: the owner's own record with metadata. */
export function llookupAllLine(fullKey: string): string {
  return `llookup:all:${fullKey}`;
}

/** `lookup:all:<name>@<owner>`: a key of another @sign (or a public key, unauthenticated). */
export function lookupAllLine(name: string, owner: string): string {
  return `lookup:all:${name}${owner}`;
}

/** `delete:<key>`. */
export function deleteLine(fullKey: string): string {
  return `delete:${fullKey}`;
}

/** `scan[ <regex>]`. */
export function scanLine(regex?: string): string {
  return regex ? `scan ${regex}` : "scan";
}
