/**
 * The `:name:value` metadata pairs of update, update:meta and notify, in any order (ATPROTOCOL.md §5.4).
 *
 * The reference grammar fixes the order, but at_c and at_python emit other orders and extra names, so we read
 * the pairs one at a time: known names (case-insensitive) are checked and stored, unknown names are ignored,
 * and the literal `null` clears a field.
 */
import type { MetadataPatch } from "./command.ts";
import { AtProtocolError } from "../wire/at_protocol_error.ts";
import { fail, isEntity, ISO_TIMESTAMP, parseBool, parseInteger } from "./_syntax.ts";

/**
 * Largest magnitude of each time field (ttl and ttb in milliseconds, ttr in seconds): 10^15 ms, about 31,700
 * years. The reference checks only the lower ends, then fails with an internal error when the sum of now and
 * these leaves the date range (DART_DATE_LIMIT_MS); with both at most 10^15, any sum stays far inside it, so
 * every derived date (expiresAt, availableAt, refreshAt) can be written and read back by a Dart client.
 */
export const METADATA_TIME_LIMITS = { ttl: 1e15, ttb: 1e15, ttr: 1e12 } as const;

/** A time field of the metadata. */
export type MetadataTimeField = keyof typeof METADATA_TIME_LIMITS;

/**
 * Whether `value` is a safe integer within the field's limit (either sign: the lower ends are the server's
 * rule, see server/metadata.ts).
 * @example timeWithinLimit("ttl", 8640000000000000) // false
 */
export function timeWithinLimit(field: MetadataTimeField, value: number): boolean {
  return Number.isSafeInteger(value) && Math.abs(value) <= METADATA_TIME_LIMITS[field];
}

/**
 * Throws AT0003 (the reference's InvalidSyntaxException) when `value` is past the field's limit.
 * @example checkTimeLimit("ttr", 86400) // ok
 */
export function checkTimeLimit(field: MetadataTimeField, value: number): void {
  if (timeWithinLimit(field, value)) return;
  const unit = field === "ttr" ? "s" : "ms";
  throw new AtProtocolError("AT0003", `Invalid syntax. ${field} must be at most ${METADATA_TIME_LIMITS[field]} ${unit}, got ${value}`);
}

/** `date` = ISO 8601 UTC; `appMetadata` = base64 of a JSON object naming a non-empty `providerId`. */
type Kind = "int" | "bool" | "text" | "date" | "appMetadata";

/**
 * Canonical names in the reference's (and Dart's) order, with their value kind: the one list of the request
 * metadata fields (server/metadata.ts and update:json derive theirs from it).
 */
export const METADATA_FIELDS = [
  ["ttl", "int"],
  ["ttb", "int"],
  ["ttr", "int"],
  ["ccd", "bool"],
  ["cAt", "date"],
  ["uAt", "date"],
  ["eAt", "date"],
  ["aAt", "date"],
  ["dataSignature", "text"],
  ["sharedKeyStatus", "text"],
  ["isBinary", "bool"],
  ["isEncrypted", "bool"],
  ["sharedKeyEnc", "text"],
  ["pubKeyCS", "text"],
  ["pubKeyHash", "text"],
  ["hashingAlgo", "text"],
  ["encoding", "text"],
  ["encKeyName", "text"],
  ["encAlgo", "text"],
  ["ivNonce", "text"],
  ["skeEncKeyName", "text"],
  ["skeEncAlgo", "text"],
  ["immutable", "bool"],
  ["appMetadata", "appMetadata"],
] as const satisfies readonly (readonly [keyof MetadataPatch, Kind])[];

const BY_LOWER = new Map<string, readonly [keyof MetadataPatch, Kind]>(
  METADATA_FIELDS.map((f) => [f[0].toLowerCase(), f]),
);

/**
 * Reads one `name:value` pair into `patch`. Returns false (and leaves `patch` alone) when `name` is not a
 * metadata field, so the caller can try its own parameters or ignore it. Throws AT0003 on a bad value.
 * @example applyMetadataPair(patch, "TTL", "60000", usage) // patch.ttl === 60000
 */
export function applyMetadataPair(patch: MetadataPatch, name: string, value: string, usage: string): boolean {
  const field = BY_LOWER.get(name.toLowerCase());
  if (!field) return false;
  const [key, kind] = field;
  const p = patch as Record<string, number | boolean | string | null>;
  if (value.toLowerCase() === "null") {
    p[key] = null;
    return true;
  }
  if (kind === "int") {
    const n = parseInteger(value, true);
    if (n === null) fail(usage);
    checkTimeLimit(key as MetadataTimeField, n);
    p[key] = n;
  } else if (kind === "bool") {
    const b = parseBool(value);
    if (b === null) fail(usage);
    p[key] = b;
  } else {
    const ok = kind === "date" ? ISO_TIMESTAMP.test(value) : isEntity(value) && (kind !== "appMetadata" || isAppMetadata(value));
    if (!ok) fail(usage);
    p[key] = value;
  }
  return true;
}

/** Names of the fields of one kind, in canonical order. */
export function metadataFieldsOf<K extends Kind>(kind: K): Extract<(typeof METADATA_FIELDS)[number], readonly [string, K]>[0][] {
  return METADATA_FIELDS.filter((f) => f[1] === kind).map((f) => f[0]) as never;
}

/**
 * Whether `text` is what at_commons writes for appMetadata: base64 of a JSON object whose `providerId` is a
 * non-empty string (the reference refuses anything else as invalid syntax).
 * @example isAppMetadata(btoa('{"providerId":"p"}')) // true
 */
export function isAppMetadata(text: string): boolean {
  try {
    const v: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.fromBase64(text)));
    return typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as { providerId?: unknown }).providerId === "string" && (v as { providerId: string }).providerId !== "";
  } catch {
    return false;
  }
}

/**
 * Formats a patch as `:name:value` pairs in the canonical order (what Dart emits); `null` fields become `:name:null`
 * (so a text value that is literally `null` cannot be sent: it reads back as "clear").
 * @example formatMetadataPatch({ isEncrypted: true, ttl: 5 }) // ":ttl:5:isEncrypted:true"
 */
export function formatMetadataPatch(patch: MetadataPatch): string {
  let out = "";
  for (const [key] of METADATA_FIELDS) {
    const v = patch[key];
    if (v !== undefined) out += `:${key}:${v === null ? "null" : String(v)}`;
  }
  return out;
}
