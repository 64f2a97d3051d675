/**
 * `enroll` and `otp` (ATPROTOCOL.md §8.1, §8.3).
 */
import { ENGLISH } from "../zod_english.ts";
import * as z from "zod/mini";
import type { CommandOf, EnrollOperation, EnrollParams } from "./command.ts";
import { AtProtocolError } from "../wire/at_protocol_error.ts";
import { fail, parseInteger } from "./_syntax.ts";

const ENROLL_USAGE = "enroll:request|approve|deny|revoke|unrevoke|list|fetch|delete|update[:force][:{json}] | enroll:listns|infons:<namespace>";
const OTP_USAGE = "otp:get[:ttl:<ms>] | otp:put:<passcode>[:ttl:<ms>]";

const OPERATIONS: readonly EnrollOperation[] = ["request", "approve", "deny", "revoke", "unrevoke", "list", "fetch", "delete", "update", "listns", "infons"];

/** Operations that name a namespace after the operation (`enroll:listns:<ns>`). */
const NAMESPACE_OPERATIONS: readonly EnrollOperation[] = ["listns", "infons"];

/** The reference's `listNamespace` token: no `:`, `{` or line break (and, here, no whitespace). */
const LIST_NAMESPACE_RE = /^([^:{\s]+)(?::(.*))?$/s;

// Unknown fields are dropped (zod strips them); Dart's generated toJson sends absent fields as null, so nulls
// are removed before validation. The fields are in at_commons' EnrollParams order, which zod keeps on output,
// so a line in the builder's order builds back byte for byte.
const enrollParamsSchema = z.object({
  enrollmentId: z.optional(z.string()),
  appName: z.optional(z.string()),
  deviceName: z.optional(z.string()),
  namespaces: z.optional(z.record(z.string(), z.string())),
  otp: z.optional(z.string()),
  encryptedDefaultEncryptionPrivateKey: z.optional(z.string()),
  encPrivateKeyIV: z.optional(z.string()),
  encryptedDefaultSelfEncryptionKey: z.optional(z.string()),
  selfEncKeyIV: z.optional(z.string()),
  encryptedAPKAMSymmetricKey: z.optional(z.string()),
  apkamPublicKey: z.optional(z.string()),
  signingAlgo: z.optional(z.string()),
  apsk: z.optional(z.record(z.string(), z.unknown())),
  apskLegacy: z.optional(z.string()),
  apkamPublicKeySignature: z.optional(z.string()),
  metadata: z.optional(z.record(z.string(), z.unknown())),
  enrollmentStatusFilter: z.optional(z.array(z.enum(["pending", "approved", "denied", "revoked", "expired"]))),
  apkamKeysExpiryInMillis: z.optional(z.number().check(z.int(), z.nonnegative())),
});

/**
 * Parses `enroll:<operation>[:force][:<json params>]` and `enroll:listns|infons:<namespace>[:<json params>]`.
 * @example parseEnroll('enroll:approve:{"enrollmentId":"e1"}')
 *   // { verb: "enroll", operation: "approve", params: { enrollmentId: "e1" } }
 * @example parseEnroll("enroll:listns:wavi") // { verb: "enroll", operation: "listns", namespace: "wavi" }
 */
export function parseEnroll(line: string): CommandOf<"enroll"> {
  const m = /^enroll:([a-z]+)(:force)?(?::)?(.*)$/is.exec(line);
  const operation = OPERATIONS.find((o) => o === m?.[1]?.toLowerCase());
  if (!m || !operation) fail(ENROLL_USAGE);
  const cmd: CommandOf<"enroll"> = { verb: "enroll", operation };
  if (m[2]) cmd.force = true;
  let json = m[3] ?? "";
  if (NAMESPACE_OPERATIONS.includes(operation)) {
    const ns = LIST_NAMESPACE_RE.exec(json) ?? fail(ENROLL_USAGE);
    cmd.namespace = ns[1]!;
    json = ns[2] ?? "";
  }
  if (json.length > 0) cmd.params = parseEnrollParams(json, operation);
  return cmd;
}

/**
 * Fields that would set an enrollment's state. Unknown fields are dropped, but on `enroll:update` these are
 * refused by name (AT0022), so a client that tries to change its own approval learns it cannot.
 */
const STATE_FIELDS = ["approval", "status", "state"] as const;

function parseEnrollParams(json: string, operation: EnrollOperation): EnrollParams {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new AtProtocolError("AT0003", `Invalid syntax. enroll parameters are not valid JSON. Usage: ${ENROLL_USAGE}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail(ENROLL_USAGE);
  const stateField = operation === "update" ? STATE_FIELDS.find((f) => f in raw) : undefined;
  if (stateField) throw new AtProtocolError("AT0022", `enroll:update cannot change the approval state (${stateField}): an enrollment amending itself must not change its own approval`);
  const present = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== null));
  const parsed = enrollParamsSchema.safeParse(present, ENGLISH);
  if (!parsed.success) {
    throw new AtProtocolError("AT0022", `Invalid enroll parameters: ${z.prettifyError(parsed.error).replace(/\n/g, " ")}`);
  }
  return stripUndefined(parsed.data as EnrollParams);
}

function stripUndefined(p: EnrollParams): EnrollParams {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as EnrollParams;
}

/**
 * Builds an enroll line.
 * @example buildEnroll({ verb: "enroll", operation: "list" }) // "enroll:list"
 */
export function buildEnroll(cmd: CommandOf<"enroll">): string {
  const ns = cmd.namespace === undefined ? "" : `:${cmd.namespace}`;
  return `enroll:${cmd.operation}${cmd.force ? ":force" : ""}${ns}${cmd.params ? `:${JSON.stringify(cmd.params)}` : ""}`;
}

/**
 * Parses `otp:get[:ttl:<ms>]` or `otp:put:<passcode of 6+ word chars>[:ttl:<ms>]`.
 * @example parseOtp("otp:put:ABC123:ttl:60000") // { verb: "otp", operation: "put", otp: "ABC123", ttlMs: 60000 }
 */
export function parseOtp(line: string): CommandOf<"otp"> {
  const m = /^otp:(get|put)(?::(?!ttl:)(\w{6,}))?(?::ttl:(\d+))?$/i.exec(line);
  if (!m) fail(OTP_USAGE);
  const ttlMs = m[3] === undefined ? undefined : (parseInteger(m[3], false) ?? fail(OTP_USAGE));
  const ttl = ttlMs === undefined ? {} : { ttlMs };
  if (eqGet(m[1])) {
    if (m[2] !== undefined) fail(OTP_USAGE);
    return { verb: "otp", operation: "get", ...ttl };
  }
  if (m[2] === undefined) fail(OTP_USAGE);
  return { verb: "otp", operation: "put", otp: m[2], ...ttl };
}

function eqGet(op: string | undefined): boolean {
  return op?.toLowerCase() === "get";
}

/**
 * Builds an otp line.
 * @example buildOtp({ verb: "otp", operation: "get" }) // "otp:get"
 */
export function buildOtp(cmd: CommandOf<"otp">): string {
  const ttl = cmd.ttlMs === undefined ? "" : `:ttl:${cmd.ttlMs}`;
  return cmd.operation === "get" ? `otp:get${ttl}` : `otp:put:${cmd.otp}${ttl}`;
}
