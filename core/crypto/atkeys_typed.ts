/**
 * The `keys` array of at_auth 3.3's typed .atKeys document: key groups that share a keyId (the two halves of a
 * pair), each with its parts.
 *
 *   [{"keyId":K,"enrollmentId":E?,"keyParts":[{"keyPartType":R,"keyAlgorithmType":A,"operations":[..]?,
 *     "createdAt":ISO,"status":"active"|"retired"|"dead","bytes":B64}]}]
 *
 * Role and algorithm are open tokens (a newer writer's are kept, not refused); `operations` is written only
 * when non-empty; `status` defaults to active; `createdAt` is Dart's toIso8601String (milliseconds, and
 * microseconds when there are some). Inlay reads its own keys from the document's flat fields and carries
 * this array through unchanged; `canonicalTypedKeys` checks it (bounded) and re-lays it out as at_auth writes
 * it, so a file at_auth wrote comes back byte for byte.
 */
import { fromBase64 } from "./encoding.ts";

/** Most key groups a document may hold. */
export const ATKEYS_MAX_KEY_GROUPS = 64;
/** Most parts one key group may hold. */
export const ATKEYS_MAX_KEY_PARTS = 8;
/** Longest keyId, enrollmentId, role or algorithm token, operation name or timestamp, in characters. */
export const ATKEYS_MAX_TOKEN_CHARS = 256;
/** Most operations one part may list. */
export const ATKEYS_MAX_OPERATIONS = 16;

const STATUSES = ["active", "retired", "dead"];
const DART_ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(?:\d{3})?Z?$/;
const GROUP_FIELDS = ["keyId", "enrollmentId", "keyParts"];
const PART_FIELDS = ["keyPartType", "keyAlgorithmType", "operations", "createdAt", "status", "bytes"];

type Json = unknown;
type Fail = (what: string) => never;

function object(value: Json, where: string, fields: string[], fail: Fail): Record<string, Json> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return fail(`${where} must be an object`);
  const unknown = Object.keys(value).find((k) => !fields.includes(k));
  if (unknown !== undefined) fail(`${where}.${unknown} is not a field of the typed document`);
  return value as Record<string, Json>;
}

function array(value: Json, where: string, max: number, fail: Fail): Json[] {
  if (!Array.isArray(value)) return fail(`${where} must be an array`);
  if (value.length > max) fail(`${where} has ${value.length} entries, over the limit of ${max}`);
  return value;
}

function token(value: Json, where: string, fail: Fail): string {
  if (typeof value !== "string" || value.length === 0) return fail(`${where} must be a non-empty string`);
  if (value.length > ATKEYS_MAX_TOKEN_CHARS) fail(`${where} is longer than ${ATKEYS_MAX_TOKEN_CHARS} characters`);
  return value;
}

function part(value: Json, where: string, fail: Fail): Record<string, Json> {
  const p = object(value, where, PART_FIELDS, fail);
  const operations = p.operations === undefined || p.operations === null ? [] : array(p.operations, `${where}.operations`, ATKEYS_MAX_OPERATIONS, fail).map((o, i) => token(o, `${where}.operations[${i}]`, fail));
  const createdAt = token(p.createdAt, `${where}.createdAt`, fail);
  if (!DART_ISO_RE.test(createdAt)) fail(`${where}.createdAt is not an ISO-8601 time as at_auth writes it (2026-01-31T12:00:00.000Z)`);
  const status = p.status ?? "active";
  if (typeof status !== "string" || !STATUSES.includes(status)) fail(`${where}.status must be one of ${STATUSES.join(", ")}`);
  if (typeof p.bytes !== "string") return fail(`${where}.bytes must be a base64 string`);
  try {
    fromBase64(p.bytes, "bytes");
  } catch {
    fail(`${where}.bytes is not valid base64`);
  }
  return {
    keyPartType: token(p.keyPartType, `${where}.keyPartType`, fail),
    keyAlgorithmType: token(p.keyAlgorithmType, `${where}.keyAlgorithmType`, fail),
    ...(operations.length > 0 ? { operations } : {}),
    createdAt,
    status,
    bytes: p.bytes,
  };
}

/**
 * Checks the `keys` array (no repeated keyId, no repeated role within a group, every limit above) and returns
 * it laid out as at_auth writes it. `fail` throws the caller's error naming the file.
 */
export function canonicalTypedKeys(value: Json, fail: Fail): Json[] {
  const seenIds = new Set<string>();
  return array(value, "keys", ATKEYS_MAX_KEY_GROUPS, fail).map((raw, i) => {
    const where = `keys[${i}]`;
    const g = object(raw, where, GROUP_FIELDS, fail);
    const keyId = token(g.keyId, `${where}.keyId`, fail);
    if (seenIds.has(keyId)) fail(`keyId "${keyId}" appears twice`);
    seenIds.add(keyId);
    const enrollmentId = g.enrollmentId === undefined || g.enrollmentId === null ? undefined : token(g.enrollmentId, `${where}.enrollmentId`, fail);
    const parts = array(g.keyParts, `${where}.keyParts`, ATKEYS_MAX_KEY_PARTS, fail).map((p, j) => part(p, `${where}.keyParts[${j}]`, fail));
    const roles = new Set(parts.map((p) => p.keyPartType));
    if (roles.size !== parts.length) fail(`${where} repeats a keyPartType`);
    return { keyId, ...(enrollmentId !== undefined ? { enrollmentId } : {}), keyParts: parts };
  });
}
