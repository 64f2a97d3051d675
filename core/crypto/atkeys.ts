/**
 * The `.atKeys` file: the JSON a device keeps its keys in, byte-compatible with what at_onboarding_cli
 * writes (Dart `jsonEncode` of an insertion-ordered map: no spaces, no trailing newline):
 *
 *   {"aesPkamPrivateKey":E,"aesPkamPublicKey":E,"aesEncryptPublicKey":E,"aesEncryptPrivateKey":E,
 *    "selfEncryptionKey":K,"@alice":K,"apkamSymmetricKey":A,"enrollmentId":"<uuid>"}
 *
 * E = base64 AES-256-CTR (PKCS#7, all-zero IV) of the key text under the self-encryption key K; K, A (the
 * APKAM symmetric key) and the enrollment id are stored in clear. The entry named after the @sign repeats K.
 * The last two are absent in files from before APKAM. Our P-256/Ed25519 PKAM keys add one field,
 * ATKEYS_PKAM_ALGO_FIELD, that reference clients ignore (newer at_auth keeps unknown fields as metadata); it
 * is written only for non-RSA keys, so an RSA file is exactly the reference layout.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join } from "node:path";
import { z } from "zod/mini";
import { normalizeAtSign } from "../atsign.ts";
import { aesCtrDecrypt, aesCtrEncrypt } from "./aes_ctr.ts";
import { CryptoError } from "./crypto_error.ts";
import { fromBase64, fromUtf8, toBase64, utf8 } from "./encoding.ts";
import { PKAM_SIGNING_ALGOS, type PkamSigningAlgo } from "./pkam.ts";

/** Our extra field naming the PKAM algorithm (absent = rsa2048). */
export const ATKEYS_PKAM_ALGO_FIELD = "inlayPkamSigningAlgo";
/** Largest .atKeys file we read; real ones are ~9 KiB. */
export const ATKEYS_MAX_FILE_BYTES = 64 * 1024;
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

/** A file that could not be read or understood; the message names the file and the fix. */
export class AtKeysFileError extends Error {
  override readonly name = "AtKeysFileError";
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}

const nonEmpty = z.string().check(z.minLength(1));
const fileSchema = z.looseObject({
  aesPkamPublicKey: nonEmpty,
  aesPkamPrivateKey: nonEmpty,
  aesEncryptPublicKey: nonEmpty,
  aesEncryptPrivateKey: nonEmpty,
  selfEncryptionKey: nonEmpty,
  apkamSymmetricKey: z.optional(nonEmpty),
  enrollmentId: z.optional(nonEmpty),
  [ATKEYS_PKAM_ALGO_FIELD]: z.optional(z.enum(PKAM_SIGNING_ALGOS)),
});

const BASE64_KEY_RE = /^[A-Za-z0-9+/]+={0,2}$/;
const HEX_KEY_RE = /^[0-9a-fA-F]+$/;

/** `~/.atsign/keys/@alice_key.atKeys`, the path reference clients look in. */
export function defaultAtKeysPath(atSign: string, home: string = homedir()): string {
  return join(home, ".atsign", "keys", `${normalizeAtSign(atSign)}_key.atKeys`);
}

function seal(selfKey: string, text: string): string {
  return toBase64(aesCtrEncrypt(selfKey, utf8(text)));
}

/** Serialises keys to the reference JSON text (see the module comment for the layout). */
export function encodeAtKeys(keys: AtKeys): string {
  const k = keys.selfEncryptionKey;
  const doc: Record<string, string> = {
    aesPkamPrivateKey: seal(k, keys.pkamPrivateKey),
    aesPkamPublicKey: seal(k, keys.pkamPublicKey),
    aesEncryptPublicKey: seal(k, keys.encryptionPublicKey),
    aesEncryptPrivateKey: seal(k, keys.encryptionPrivateKey),
    selfEncryptionKey: k,
    [normalizeAtSign(keys.atSign)]: k,
  };
  if (keys.apkamSymmetricKey !== undefined) doc.apkamSymmetricKey = keys.apkamSymmetricKey;
  if (keys.enrollmentId !== undefined) doc.enrollmentId = keys.enrollmentId;
  if (keys.pkamAlgo !== "rsa2048") doc[ATKEYS_PKAM_ALGO_FIELD] = keys.pkamAlgo;
  return JSON.stringify(doc);
}

/**
 * Parses and decrypts .atKeys JSON text. `file` names the source in errors; the @sign comes from the entry
 * that repeats the self-encryption key, else from a `@alice_key.atKeys` file name.
 */
export function decodeAtKeys(text: string, file = "<.atKeys>"): AtKeys {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AtKeysFileError(file, "not JSON; is this an .atKeys file?");
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join(".") || "(top level)").join(", ");
    throw new AtKeysFileError(file, `not a valid .atKeys file (missing or invalid: ${fields})`);
  }
  const doc = parsed.data;
  const selfKey = doc.selfEncryptionKey;
  const atSign =
    Object.keys(doc).find((name) => name.startsWith("@") && doc[name] === selfKey) ??
    /^(@.+)_key\.atKeys$/.exec(basename(file))?.[1];
  if (atSign === undefined) throw new AtKeysFileError(file, "no entry names the @sign; pass a file named @alice_key.atKeys");
  const pkamAlgo = doc[ATKEYS_PKAM_ALGO_FIELD] ?? "rsa2048";

  const reveal = (field: string, value: string, shape: RegExp): string => {
    try {
      const plain = fromUtf8(aesCtrDecrypt(selfKey, fromBase64(value, field)), field);
      // CTR has no integrity check; the expected key shape catches a wrong selfEncryptionKey.
      if (!shape.test(plain)) throw new CryptoError("decrypt_failed", `${field} did not decrypt to a key`);
      return plain;
    } catch (e) {
      if (!(e instanceof CryptoError)) throw e;
      throw new AtKeysFileError(file, `cannot decrypt ${field} with selfEncryptionKey (${e.message}); the file is damaged`);
    }
  };
  const pkamShape = pkamAlgo === "ecc_secp256r1" ? HEX_KEY_RE : BASE64_KEY_RE;
  const keys: AtKeys = {
    atSign,
    pkamAlgo,
    pkamPublicKey: reveal("aesPkamPublicKey", doc.aesPkamPublicKey, pkamShape),
    pkamPrivateKey: reveal("aesPkamPrivateKey", doc.aesPkamPrivateKey, pkamShape),
    encryptionPublicKey: reveal("aesEncryptPublicKey", doc.aesEncryptPublicKey, BASE64_KEY_RE),
    encryptionPrivateKey: reveal("aesEncryptPrivateKey", doc.aesEncryptPrivateKey, BASE64_KEY_RE),
    selfEncryptionKey: selfKey,
  };
  if (doc.apkamSymmetricKey !== undefined) keys.apkamSymmetricKey = doc.apkamSymmetricKey;
  if (doc.enrollmentId !== undefined) keys.enrollmentId = doc.enrollmentId;
  return keys;
}

/** Reads, validates and decrypts an .atKeys file. */
export async function readAtKeysFile(file: string): Promise<AtKeys> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AtKeysFileError(file, code === "ENOENT" ? "no such file; run `onboard` or pass --keys FILE" : `cannot read (${code})`);
  }
  if (bytes.byteLength > ATKEYS_MAX_FILE_BYTES) throw new AtKeysFileError(file, `larger than ${ATKEYS_MAX_FILE_BYTES} bytes; not an .atKeys file`);
  return decodeAtKeys(new TextDecoder().decode(bytes), file);
}

/**
 * Writes keys to `file` (default: defaultAtKeysPath) with mode 0600, creating the directory (0700). The
 * content goes to a fresh temp file first and is renamed into place, so a crash never leaves half a key file.
 * Returns the path written.
 */
export async function writeAtKeysFile(keys: AtKeys, file: string = defaultAtKeysPath(keys.atSign)): Promise<string> {
  await mkdir(dirname(file), { recursive: true, mode: ATKEYS_DIR_MODE });
  const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await open(tmp, "wx", ATKEYS_FILE_MODE);
  try {
    await handle.writeFile(encodeAtKeys(keys));
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
