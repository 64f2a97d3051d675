/**
 * The `.atKeys` file: the JSON a device keeps its keys in. Three forms, each read and written byte for byte
 * as the reference writes it (Dart `jsonEncode` of insertion-ordered maps: compact, no trailing newline):
 *
 * - legacy flat, at_onboarding_cli's (and what Inlay writes unless asked otherwise):
 *     {"aesPkamPrivateKey":E,"aesPkamPublicKey":E,"aesEncryptPublicKey":E,"aesEncryptPrivateKey":E,
 *      "selfEncryptionKey":K,"@alice":K,"apkamSymmetricKey":A,"enrollmentId":"<uuid>"}
 *   Newer at_onboarding_cli writes aesPkamPublicKey first and aesPkamPrivateKey last; the field order of a
 *   file read is kept, so either comes back as it was.
 * - typed, at_auth 3.3's document: the same flat fields in at_auth's order (aesPkamPublicKey first; the
 *   APKAM key and enrollment id as null when absent), the file's other fields, then
 *   "version":1,"atsign":"@alice","keys":[...] (the typed key groups, see atkeys_typed.ts).
 * - passphrase-protected: either of them inside an Argon2id envelope (see atkeys_envelope.ts).
 *
 * E = base64 AES-256-CTR (PKCS#7, all-zero IV) of the key text under the self-encryption key K; K, A (the
 * APKAM symmetric key) and the enrollment id are stored in clear; the entry named after the @sign repeats K.
 * The APKAM fields are absent in files from before APKAM. Our P-256/Ed25519 PKAM keys add one field,
 * ATKEYS_PKAM_ALGO_FIELD, that reference clients ignore (at_auth keeps unknown fields); it is written only for
 * non-RSA keys, so an RSA file is exactly the reference layout.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { z } from "zod/mini";
import { normalizeAtSign } from "../atsign.ts";
import { aesCtrDecrypt, aesCtrEncrypt } from "./aes_ctr.ts";
import { AtKeysFileError, AtKeysPassphraseRequired } from "./atkeys_error.ts";
import { type EnvelopeForm, type PassphraseEnvelope, encodeEnvelope, isEnvelope, openEnvelope, parseEnvelope, sealEnvelope } from "./atkeys_envelope.ts";
import { canonicalTypedKeys } from "./atkeys_typed.ts";
import { CryptoError } from "./crypto_error.ts";
import { fromBase64, fromUtf8, toBase64, utf8 } from "./encoding.ts";
import { PKAM_SIGNING_ALGOS, type PkamSigningAlgo } from "./pkam.ts";

export { AtKeysFileError, AtKeysPassphraseRequired };

/** Our extra field naming the PKAM algorithm (absent = rsa2048). */
export const ATKEYS_PKAM_ALGO_FIELD = "inlayPkamSigningAlgo";
/** Largest .atKeys file we read: real ones are ~9 KiB, typed documents with post-quantum keys a few tens. */
export const ATKEYS_MAX_FILE_BYTES = 256 * 1024;
/** Most top-level fields a file may have (the reference writes at most 11). */
export const ATKEYS_MAX_FIELDS = 64;
/** File mode of written .atKeys files: owner read/write only. */
export const ATKEYS_FILE_MODE = 0o600;
/** Mode of directories we create for them. */
export const ATKEYS_DIR_MODE = 0o700;

/** The decrypted content of an .atKeys file. All keys are in their text form. */
export interface AtKeys {
  /** The @sign, with its leading "@". */
  atSign: string;
  /** PKAM (or APKAM) key pair and its algorithm. */
  pkamAlgo: PkamSigningAlgo;
  pkamPublicKey: string;
  pkamPrivateKey: string;
  /** RSA encryption key pair (publickey@alice). */
  encryptionPublicKey: string;
  encryptionPrivateKey: string;
  /** AES-256 self-encryption key text. */
  selfEncryptionKey: string;
  /** APKAM: the key the enrollment's default keys were wrapped with, and the enrollment id. */
  apkamSymmetricKey?: string;
  enrollmentId?: string;
}

/** Which document a file holds (inside its envelope, if it has one). */
export type AtKeysForm = "legacy" | "typed";

/**
 * One top-level field of a file. A key field takes its value from the keys when written (`nullWhenAbsent`:
 * write null rather than nothing when the keys lack it, as the typed form does); any other is kept as read.
 */
export type AtKeysField = { name: string; fromKeys: true; nullWhenAbsent: boolean } | { name: string; fromKeys: false; value: unknown };

/** How a file lays its keys out, so that writing what was read gives back the same bytes. */
export interface AtKeysLayout {
  form: AtKeysForm;
  fields: AtKeysField[];
}

/** An .atKeys document: the keys and their layout. */
export interface AtKeysDocument {
  keys: AtKeys;
  layout: AtKeysLayout;
}

/** A file as opened: its document, the document's plaintext JSON, and the envelope it came in, if any. */
export interface OpenedAtKeys extends AtKeysDocument {
  text: string;
  envelope?: PassphraseEnvelope;
}

/** Asked for the passphrase when, and only when, a file turns out to be protected. */
export type PassphraseSource = () => Promise<string>;

const PKAM_PRIVATE = "aesPkamPrivateKey";
const PKAM_PUBLIC = "aesPkamPublicKey";
const ENC_PUBLIC = "aesEncryptPublicKey";
const ENC_PRIVATE = "aesEncryptPrivateKey";
const SELF = "selfEncryptionKey";
const APKAM = "apkamSymmetricKey";
const ENROLLMENT = "enrollmentId";
const ATSIGN = "atsign";
const TYPED_VERSION = 1;
const KEY_FIELDS = new Set([PKAM_PRIVATE, PKAM_PUBLIC, ENC_PUBLIC, ENC_PRIVATE, SELF, APKAM, ENROLLMENT, ATKEYS_PKAM_ALGO_FIELD]);

const nonEmpty = z.string().check(z.minLength(1));
const optionalText = z.optional(z.nullable(nonEmpty));
const flatSchema = z.looseObject({
  [PKAM_PUBLIC]: nonEmpty,
  [PKAM_PRIVATE]: nonEmpty,
  [ENC_PUBLIC]: nonEmpty,
  [ENC_PRIVATE]: nonEmpty,
  [SELF]: nonEmpty,
  [APKAM]: optionalText,
  [ENROLLMENT]: optionalText,
  [ATKEYS_PKAM_ALGO_FIELD]: z.optional(z.enum(PKAM_SIGNING_ALGOS)),
});
type FlatFields = z.infer<typeof flatSchema>;

const BASE64_KEY_RE = /^[A-Za-z0-9+/]+={0,2}$/;
const HEX_KEY_RE = /^[0-9a-fA-F]+$/;

/** `~/.atsign/keys/@alice_key.atKeys`, the path reference clients look in. */
export function defaultAtKeysPath(atSign: string, home: string = homedir()): string {
  return join(home, ".atsign", "keys", `${normalizeAtSign(atSign)}_key.atKeys`);
}

function seal(selfKey: string, text: string): string {
  return toBase64(aesCtrEncrypt(selfKey, utf8(text)));
}

const fromKeys = (name: string, nullWhenAbsent = false): AtKeysField => ({ name, fromKeys: true, nullWhenAbsent });

/** The layout a new file of `form` gets: at_onboarding_cli's for legacy, at_auth 3.3's for typed. */
export function freshLayout(keys: AtKeys, form: AtKeysForm): AtKeysLayout {
  if (form === "legacy") {
    const names = [PKAM_PRIVATE, PKAM_PUBLIC, ENC_PUBLIC, ENC_PRIVATE, SELF, normalizeAtSign(keys.atSign), APKAM, ENROLLMENT, ATKEYS_PKAM_ALGO_FIELD];
    return { form, fields: names.map((n) => fromKeys(n)) };
  }
  const flat = [PKAM_PUBLIC, PKAM_PRIVATE, ENC_PUBLIC, ENC_PRIVATE, SELF].map((n) => fromKeys(n));
  const typed: AtKeysField[] = [{ name: "version", fromKeys: false, value: TYPED_VERSION }, fromKeys(ATSIGN), { name: "keys", fromKeys: false, value: [] }];
  return { form, fields: [...flat, fromKeys(APKAM, true), fromKeys(ENROLLMENT, true), fromKeys(ATKEYS_PKAM_ALGO_FIELD), ...typed] };
}

/** The value a key field gets from `keys`; undefined leaves the field out. */
function keyFieldValue(field: Extract<AtKeysField, { fromKeys: true }>, keys: AtKeys): unknown {
  const k = keys.selfEncryptionKey;
  const optional = (v: string | undefined) => v ?? (field.nullWhenAbsent ? null : undefined);
  switch (field.name) {
    case PKAM_PRIVATE:
      return seal(k, keys.pkamPrivateKey);
    case PKAM_PUBLIC:
      return seal(k, keys.pkamPublicKey);
    case ENC_PUBLIC:
      return seal(k, keys.encryptionPublicKey);
    case ENC_PRIVATE:
      return seal(k, keys.encryptionPrivateKey);
    case APKAM:
      return optional(keys.apkamSymmetricKey);
    case ENROLLMENT:
      return optional(keys.enrollmentId);
    case ATKEYS_PKAM_ALGO_FIELD:
      return keys.pkamAlgo === "rsa2048" ? undefined : keys.pkamAlgo;
    case ATSIGN:
      return normalizeAtSign(keys.atSign);
    default:
      return k; // SELF, and the entry named after the @sign
  }
}

/**
 * Serialises keys to .atKeys JSON text in `layout` (default: a new legacy file). Key fields the layout lacks
 * but the keys have a value for (say, a new enrollment id) are added at the end.
 */
export function encodeAtKeys(keys: AtKeys, layout: AtKeysLayout = freshLayout(keys, "legacy")): string {
  const parts: string[] = [];
  const put = (name: string, value: unknown) => value !== undefined && parts.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
  for (const field of layout.fields) put(field.name, field.fromKeys ? keyFieldValue(field, keys) : field.value);
  const present = new Set(layout.fields.map((f) => f.name));
  for (const field of freshLayout(keys, layout.form).fields) {
    if (!field.fromKeys || present.has(field.name) || !KEY_FIELDS.has(field.name)) continue;
    const value = keyFieldValue(field, keys);
    if (value !== null) put(field.name, value);
  }
  return `{${parts.join(",")}}`;
}

function parseJsonObject(text: string, file: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AtKeysFileError(file, "not JSON; is this an .atKeys file?");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new AtKeysFileError(file, "not a JSON object; is this an .atKeys file?");
  return json as Record<string, unknown>;
}

/** Decrypts the four sealed fields; the expected key shapes catch a wrong selfEncryptionKey (CTR has no MAC). */
function revealKeys(flat: FlatFields, atSign: string, file: string): AtKeys {
  const selfKey = flat[SELF];
  const reveal = (field: string, value: string, shape: RegExp): string => {
    try {
      const plain = fromUtf8(aesCtrDecrypt(selfKey, fromBase64(value, field)), field);
      if (!shape.test(plain)) throw new CryptoError("decrypt_failed", `${field} did not decrypt to a key`);
      return plain;
    } catch (e) {
      if (!(e instanceof CryptoError)) throw e;
      throw new AtKeysFileError(file, `cannot decrypt ${field} with selfEncryptionKey (${e.message}); the file is damaged`);
    }
  };
  const pkamAlgo = flat[ATKEYS_PKAM_ALGO_FIELD] ?? "rsa2048";
  const pkamShape = pkamAlgo === "ecc_secp256r1" ? HEX_KEY_RE : BASE64_KEY_RE;
  const keys: AtKeys = {
    atSign,
    pkamAlgo,
    pkamPublicKey: reveal(PKAM_PUBLIC, flat[PKAM_PUBLIC], pkamShape),
    pkamPrivateKey: reveal(PKAM_PRIVATE, flat[PKAM_PRIVATE], pkamShape),
    encryptionPublicKey: reveal(ENC_PUBLIC, flat[ENC_PUBLIC], BASE64_KEY_RE),
    encryptionPrivateKey: reveal(ENC_PRIVATE, flat[ENC_PRIVATE], BASE64_KEY_RE),
    selfEncryptionKey: selfKey,
  };
  if (flat[APKAM]) keys.apkamSymmetricKey = flat[APKAM];
  if (flat[ENROLLMENT]) keys.enrollmentId = flat[ENROLLMENT];
  return keys;
}

/** The @sign of a document: the typed `atsign` field, else the entry repeating the self key, else the file name. */
function atSignOf(doc: Record<string, unknown>, form: AtKeysForm, file: string): string {
  const fail = (what: string): never => {
    throw new AtKeysFileError(file, what);
  };
  if (form === "typed") {
    if (typeof doc[ATSIGN] !== "string") return fail(`the typed document has no "${ATSIGN}" string`);
    try {
      return normalizeAtSign(doc[ATSIGN]);
    } catch (e) {
      return fail((e as Error).message);
    }
  }
  const named = Object.keys(doc).find((name) => name.startsWith("@") && doc[name] === doc[SELF]) ?? /^(@.+)_key\.atKeys$/.exec(basename(file))?.[1];
  return named ?? fail("no entry names the @sign; pass a file named @alice_key.atKeys");
}

/** Reads a plaintext document (legacy or typed) into keys and layout. */
function decodeDocument(doc: Record<string, unknown>, file: string): AtKeysDocument {
  const names = Object.keys(doc);
  if (names.length > ATKEYS_MAX_FIELDS) throw new AtKeysFileError(file, `has ${names.length} fields, over the limit of ${ATKEYS_MAX_FIELDS}`);
  const form: AtKeysForm = Object.hasOwn(doc, "version") ? "typed" : "legacy";
  if (form === "typed" && doc.version !== TYPED_VERSION) {
    throw new AtKeysFileError(file, `typed document version ${JSON.stringify(doc.version)} is not supported (this build reads version ${TYPED_VERSION})`);
  }
  const parsed = flatSchema.safeParse(doc);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join(".") || "(top level)").join(", ");
    throw new AtKeysFileError(file, `not a valid .atKeys file (missing or invalid: ${fields})`);
  }
  const typedKeys = form === "typed" ? canonicalTypedKeys(doc.keys, (what) => { throw new AtKeysFileError(file, `typed document: ${what}`); }) : undefined;
  const keys = revealKeys(parsed.data, atSignOf(doc, form, file), file);
  const fields = names.map((name): AtKeysField => {
    const isKeyField = KEY_FIELDS.has(name) || (form === "typed" && name === ATSIGN) || (name.startsWith("@") && doc[name] === keys.selfEncryptionKey);
    if (isKeyField) return fromKeys(name, doc[name] === null);
    return { name, fromKeys: false, value: name === "keys" && typedKeys ? typedKeys : doc[name] };
  });
  return { keys, layout: { form, fields } };
}

/** Parses and decrypts plaintext .atKeys JSON text into keys and layout; a protected file needs openAtKeys. */
export function decodeAtKeysDocument(text: string, file = "<.atKeys>"): AtKeysDocument {
  const doc = parseJsonObject(text, file);
  if (isEnvelope(doc)) throw new AtKeysPassphraseRequired(file, "is passphrase-protected; give its passphrase");
  return decodeDocument(doc, file);
}

/**
 * Parses and decrypts plaintext .atKeys JSON text. `file` names the source in errors; the @sign comes from the
 * typed `atsign` field, else the entry that repeats the self-encryption key, else a `@alice_key.atKeys` name.
 */
export function decodeAtKeys(text: string, file = "<.atKeys>"): AtKeys {
  return decodeAtKeysDocument(text, file).keys;
}

/** Opens .atKeys text of any form; `passphrase` is asked only when the file is protected. */
export async function openAtKeys(text: string, file: string, passphrase?: PassphraseSource): Promise<OpenedAtKeys> {
  const doc = parseJsonObject(text, file);
  if (!isEnvelope(doc)) return { ...decodeDocument(doc, file), text };
  const envelope = parseEnvelope(doc, file);
  if (!passphrase) throw new AtKeysPassphraseRequired(file, "is passphrase-protected; give its passphrase");
  const inner = await openEnvelope(envelope, await passphrase(), file);
  const innerDoc = parseJsonObject(inner, file);
  if (isEnvelope(innerDoc)) throw new AtKeysFileError(file, "holds an envelope inside its envelope; not an .atKeys file");
  return { ...decodeDocument(innerDoc, file), text: inner, envelope };
}

/** Wraps plaintext .atKeys text (checked to be one) in a passphrase envelope; returns the envelope's JSON. */
export async function protectAtKeys(text: string, passphrase: string, form: EnvelopeForm, file: string): Promise<string> {
  decodeAtKeysDocument(text, file);
  return encodeEnvelope(await sealEnvelope(text, passphrase, form, file));
}

/** Reads an .atKeys file's text (bounded by ATKEYS_MAX_FILE_BYTES). */
export async function readAtKeysText(file: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AtKeysFileError(file, code === "ENOENT" ? "no such file; run `onboard` or pass --keys FILE" : `cannot read (${code})`);
  }
  if (bytes.byteLength > ATKEYS_MAX_FILE_BYTES) throw new AtKeysFileError(file, `larger than ${ATKEYS_MAX_FILE_BYTES} bytes; not an .atKeys file`);
  return new TextDecoder().decode(bytes);
}

/** Reads, validates and decrypts an .atKeys file of any form. */
export async function readAtKeysFile(file: string, opts: { passphrase?: PassphraseSource } = {}): Promise<AtKeys> {
  return (await openAtKeys(await readAtKeysText(file), file, opts.passphrase)).keys;
}

/**
 * Writes `text` to `file` with mode 0600, creating the directory (0700). The content goes to a fresh temp
 * file first and is renamed into place, so a crash never leaves half a key file. Returns the path written.
 */
export async function writeAtKeysText(file: string, text: string): Promise<string> {
  await mkdir(dirname(file), { recursive: true, mode: ATKEYS_DIR_MODE });
  const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await open(tmp, "wx", ATKEYS_FILE_MODE);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return file;
}

/** Writes keys as a new legacy file to `file` (default: defaultAtKeysPath); see writeAtKeysText. */
export async function writeAtKeysFile(keys: AtKeys, file: string = defaultAtKeysPath(keys.atSign)): Promise<string> {
  return writeAtKeysText(file, encodeAtKeys(keys));
}
