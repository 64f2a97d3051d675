/**
 * The passphrase envelope that can wrap an .atKeys document at rest (at_auth's passphrase envelope codec).
 * Two forms, told apart by `v`:
 *
 *   legacy (at_auth <= 3.3, at_onboarding_cli): {"content":C,"iv":IV,"hashingAlgoType":"argon2id"}
 *   v1 (at_auth 4):  {"v":1,"content":C,"iv":IV,"hashingAlgoType":"argon2id","salt":S,
 *                     "kdfParams":{"memory":M,"iterations":T,"parallelism":P}}
 *
 * C is base64 AES-256-CTR (PKCS#7, see aes_ctr.ts) of the inner document's text, IV 16 random bytes, and the
 * AES key the 32-byte Argon2id (v1.3) output over the passphrase's UTF-8. v1 carries its salt and costs
 * (memory in KiB). The legacy form derives with fixed costs (m=10000 KiB, t=2, p=2) and uses the passphrase
 * itself as the salt: its UTF-16 code units, each cut to its low byte — deterministic, so v1 is what we write
 * by default. Neither form authenticates the content: a wrong passphrase shows as content that does not
 * decrypt to a JSON object. A reader recognises an envelope by its `iv` field, as the reference does.
 *
 * Argon2id comes from @noble/hashes, loaded when a protected file is opened or written, never at start.
 */
import { randomBytes } from "node:crypto";
import { aesCtrDecrypt, aesCtrEncrypt } from "./aes_ctr.ts";
import { AtKeysFileError } from "./atkeys_error.ts";
import { CryptoError } from "./crypto_error.ts";
import { fromBase64, fromUtf8, toBase64, utf8 } from "./encoding.ts";

/** Argon2id costs; memory in KiB. */
export interface Argon2Params {
  memory: number;
  iterations: number;
  parallelism: number;
}

/** A parsed envelope; `version` 0 is the legacy form (no `v` field, no salt). */
export interface PassphraseEnvelope {
  version: 0 | 1;
  content: string;
  iv: string;
  /** v1 only: base64 of the random salt. */
  salt?: string;
  params: Argon2Params;
}

/** Which envelope `sealEnvelope` writes: v1 (salted, the default) or legacy (readable by at_auth <= 3.3). */
export type EnvelopeForm = "v1" | "legacy";

/** The legacy form's fixed costs (at_chops ArgonHashParams defaults). */
export const LEGACY_ARGON2_PARAMS: Argon2Params = { memory: 10_000, iterations: 2, parallelism: 2 };
/** What a v1 envelope we write uses: OWASP's minimum for Argon2id, as at_auth 4 writes. */
export const V1_ARGON2_PARAMS: Argon2Params = { memory: 19_456, iterations: 2, parallelism: 1 };
/** Most Argon2id memory a file may ask for, in KiB (64 MiB, ~1.4 s a pass in Bun): a hostile file cannot make us allocate more. */
export const ATKEYS_ARGON2_MAX_MEMORY_KIB = 65_536;
/** Most Argon2id passes a file may ask for (with the memory cap, a few seconds of CPU at worst). */
export const ATKEYS_ARGON2_MAX_ITERATIONS = 8;
/** Most Argon2id lanes a file may ask for. */
export const ATKEYS_ARGON2_MAX_PARALLELISM = 8;
/** Salt lengths a v1 envelope may carry, in bytes (we write 16; Argon2 needs at least 8). */
export const ATKEYS_SALT_MIN_BYTES = 8;
export const ATKEYS_SALT_MAX_BYTES = 64;
/** Longest passphrase, in UTF-8 bytes. */
export const ATKEYS_MAX_PASSPHRASE_BYTES = 1024;
/** Shortest passphrase we protect a file with, in characters (also the legacy form's salt minimum). */
export const ATKEYS_MIN_PASSPHRASE_CHARS = 8;

const V1_SALT_BYTES = 16;
const IV_BYTES = 16;
const KEY_BYTES = 32;
const ALGO = "argon2id";
const LEGACY_FIELDS = ["content", "iv", "hashingAlgoType"];
const V1_FIELDS = ["v", ...LEGACY_FIELDS, "salt", "kdfParams"];
const PARAM_FIELDS = ["memory", "iterations", "parallelism"] as const;

/** True when a parsed .atKeys JSON object is a passphrase envelope. */
export function isEnvelope(doc: object): boolean {
  return Object.hasOwn(doc, "iv");
}

/** Validates an envelope object: its fields, base64 forms and Argon2id costs (bounded, see the limits above). */
export function parseEnvelope(doc: Record<string, unknown>, file: string): PassphraseEnvelope {
  const fail = (what: string): never => {
    throw new AtKeysFileError(file, `passphrase envelope: ${what}`);
  };
  const version = doc.v === undefined ? 0 : doc.v === 1 ? 1 : fail(`version ${JSON.stringify(doc.v)} is not supported (this build reads the legacy form and v1)`);
  const allowed = version === 1 ? V1_FIELDS : LEGACY_FIELDS;
  const unknown = Object.keys(doc).find((k) => !allowed.includes(k));
  if (unknown !== undefined) fail(`unexpected field "${unknown}"`);
  if (doc.hashingAlgoType !== ALGO) fail(`hashingAlgoType ${JSON.stringify(doc.hashingAlgoType)} is not supported (only ${ALGO})`);
  const base64 = (name: string, min: number, max: number): string => {
    const value = doc[name];
    if (typeof value !== "string") return fail(`${name} must be a base64 string`);
    let n = 0;
    try {
      n = fromBase64(value, name).byteLength;
    } catch {
      fail(`${name} is not valid base64`);
    }
    if (n < min || n > max) fail(`${name} must be ${min === max ? min : `${min}..${max}`} bytes, got ${n}`);
    return value;
  };
  const iv = base64("iv", IV_BYTES, IV_BYTES);
  const content = base64("content", 1, Number.MAX_SAFE_INTEGER);
  if (version === 0) return { version, content, iv, params: LEGACY_ARGON2_PARAMS };
  const salt = base64("salt", ATKEYS_SALT_MIN_BYTES, ATKEYS_SALT_MAX_BYTES);
  return { version, content, iv, salt, params: parseParams(doc.kdfParams, fail) };
}

function parseParams(raw: unknown, fail: (what: string) => never): Argon2Params {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return fail("kdfParams must be an object");
  const unknown = Object.keys(raw).find((k) => !(PARAM_FIELDS as readonly string[]).includes(k));
  if (unknown !== undefined) fail(`unexpected field "kdfParams.${unknown}"`);
  const value = (name: (typeof PARAM_FIELDS)[number], max: number, limitName: string): number => {
    const n = (raw as Record<string, unknown>)[name];
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1) return fail(`kdfParams.${name} must be a positive integer`);
    if (n > max) fail(`kdfParams.${name} ${n} is over the limit of ${max} (${limitName})`);
    return n;
  };
  const params = {
    memory: value("memory", ATKEYS_ARGON2_MAX_MEMORY_KIB, "ATKEYS_ARGON2_MAX_MEMORY_KIB, in KiB"),
    iterations: value("iterations", ATKEYS_ARGON2_MAX_ITERATIONS, "ATKEYS_ARGON2_MAX_ITERATIONS"),
    parallelism: value("parallelism", ATKEYS_ARGON2_MAX_PARALLELISM, "ATKEYS_ARGON2_MAX_PARALLELISM"),
  };
  if (params.memory < 8 * params.parallelism) fail(`kdfParams.memory must be at least 8 KiB per lane (${8 * params.parallelism})`);
  return params;
}

/** The envelope's JSON text, laid out as the reference writes it (compact, its field order). */
export function encodeEnvelope(e: PassphraseEnvelope): string {
  if (e.version === 0) return JSON.stringify({ content: e.content, iv: e.iv, hashingAlgoType: ALGO });
  const { memory, iterations, parallelism } = e.params;
  return JSON.stringify({ v: 1, content: e.content, iv: e.iv, hashingAlgoType: ALGO, salt: e.salt, kdfParams: { memory, iterations, parallelism } });
}

/**
 * Checks a passphrase's size. Sealing needs ATKEYS_MIN_PASSPHRASE_CHARS; so does opening a legacy envelope,
 * whose Argon2id salt is the passphrase; a v1 envelope written elsewhere opens with any non-empty one.
 */
function checkPassphrase(passphrase: string, use: "seal" | "open-legacy" | "open-v1", file: string): void {
  if (passphrase.length === 0) throw new AtKeysFileError(file, "the passphrase is empty");
  if (utf8(passphrase).byteLength > ATKEYS_MAX_PASSPHRASE_BYTES) throw new AtKeysFileError(file, `the passphrase is longer than ${ATKEYS_MAX_PASSPHRASE_BYTES} bytes (ATKEYS_MAX_PASSPHRASE_BYTES)`);
  if (use === "open-v1" || passphrase.length >= ATKEYS_MIN_PASSPHRASE_CHARS) return;
  const why = use === "seal" ? "a passphrase" : "a legacy envelope uses the passphrase as its Argon2id salt, which";
  throw new AtKeysFileError(file, `${why} must be at least ${ATKEYS_MIN_PASSPHRASE_CHARS} characters`);
}

/** The legacy salt: each UTF-16 code unit of the passphrase cut to its low byte (Dart's Uint8List.fromList(codeUnits)). */
function legacySalt(passphrase: string): Uint8Array {
  const salt = new Uint8Array(passphrase.length);
  for (let i = 0; i < passphrase.length; i++) salt[i] = passphrase.charCodeAt(i) & 0xff;
  return salt;
}

/** The AES key text (base64 of the 32-byte Argon2id output) for `passphrase`, `salt` and costs `p`. */
async function deriveKey(passphrase: string, salt: Uint8Array, p: Argon2Params): Promise<string> {
  const { argon2idAsync } = await import("@noble/hashes/argon2.js");
  const out = await argon2idAsync(utf8(passphrase), salt, { t: p.iterations, m: p.memory, p: p.parallelism, dkLen: KEY_BYTES, maxmem: ATKEYS_ARGON2_MAX_MEMORY_KIB * 1024 });
  return toBase64(out);
}

/** Decrypts the envelope to the inner document's text; a wrong passphrase is named as such. */
export async function openEnvelope(e: PassphraseEnvelope, passphrase: string, file: string): Promise<string> {
  checkPassphrase(passphrase, e.version === 0 ? "open-legacy" : "open-v1", file);
  const salt = e.version === 0 ? legacySalt(passphrase) : fromBase64(e.salt!, "salt");
  const key = await deriveKey(passphrase, salt, e.params);
  try {
    const text = fromUtf8(aesCtrDecrypt(key, fromBase64(e.content, "content"), fromBase64(e.iv, "iv")), "content");
    const inner: unknown = JSON.parse(text);
    if (typeof inner === "object" && inner !== null && !Array.isArray(inner)) return text;
  } catch (err) {
    if (!(err instanceof CryptoError || err instanceof SyntaxError)) throw err;
  }
  throw new AtKeysFileError(file, "wrong passphrase (the envelope did not decrypt to an .atKeys document)");
}

/** Encrypts an inner document's text under `passphrase` with a fresh IV (and, for v1, a fresh salt). */
export async function sealEnvelope(inner: string, passphrase: string, form: EnvelopeForm, file: string): Promise<PassphraseEnvelope> {
  checkPassphrase(passphrase, "seal", file);
  const iv = new Uint8Array(randomBytes(IV_BYTES));
  const version = form === "legacy" ? 0 : 1;
  const salt = version === 0 ? legacySalt(passphrase) : new Uint8Array(randomBytes(V1_SALT_BYTES));
  const params = version === 0 ? LEGACY_ARGON2_PARAMS : V1_ARGON2_PARAMS;
  const content = toBase64(aesCtrEncrypt(await deriveKey(passphrase, salt, params), utf8(inner), iv));
  return version === 0 ? { version, content, iv: toBase64(iv), params } : { version, content, iv: toBase64(iv), salt: toBase64(salt), params };
}
