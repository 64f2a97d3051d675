/**
 * What happens to a value on its way to the server and back, per visibility (ATPROTOCOL.md §9):
 * - public: stored in clear, `dataSignature` = RSA-SHA256 of the text with my encryption private key;
 *   text with a newline is base64'd with `encoding:base64` (the signature covers the original text);
 * - self: AES-256-CTR under my self-encryption key with a fresh `ivNonce`;
 * - shared: AES-256-CTR under the per-recipient shared key, with that key wrapped for the recipient
 *   (`sharedKeyEnc`) and the checksum of the recipient's public key (`pubKeyCS`).
 * Binary values travel as base64 text with `isBinary:true`, as the Dart client does.
 * The atSDK suite has no MAC: tampering is caught by padding and UTF-8 checks, not reliably. Signatures
 * on public data are the integrity check the reference protocol offers.
 */
import { CryptoError, atSdkSuite, fromBase64, fromUtf8, publicKeyChecksum, toBase64, utf8 } from "../../core/crypto/index.ts";
import { AtCryptoError, AtUsageError } from "../errors.ts";
import type { UpdateMeta } from "./commands.ts";
import type { StoredRecord } from "./record.ts";

/** A value: text, or bytes (stored with `isBinary:true`). */
export type AtValue = string | Uint8Array;

/** The stored form of a value plus the metadata that describes it. */
export interface Sealed {
  value: string;
  meta: UpdateMeta;
}

const suite = atSdkSuite;

function toText(value: AtValue): { text: string; isBinary: boolean } {
  return typeof value === "string" ? { text: value, isBinary: false } : { text: toBase64(value), isBinary: true };
}

function fromText(text: string, isBinary: boolean | undefined, key: string): AtValue {
  return isBinary ? guard(key, () => fromBase64(text, "binary value")) : text;
}

/** Runs a crypto step and turns its failure into an AtCryptoError naming the key. */
function guard<T>(key: string, step: () => T): T {
  try {
    return step();
  } catch (e) {
    if (e instanceof CryptoError) throw new AtCryptoError(`Cannot decrypt or verify ${key}: ${e.message}`, { cause: e });
    throw e;
  }
}

function encryptText(symmetricKey: string, value: AtValue): Sealed {
  const { text, isBinary } = toText(value);
  const sealed = suite.encrypt(symmetricKey, utf8(text));
  const meta: UpdateMeta = { isEncrypted: true, ivNonce: sealed.nonce! };
  if (isBinary) meta.isBinary = true;
  return { value: sealed.ciphertext, meta };
}

function decryptText(symmetricKey: string, record: StoredRecord): AtValue {
  if (!record.meta.isEncrypted) throw new AtCryptoError(`${record.key} is not marked isEncrypted; refusing to treat it as private data`);
  const sealed = record.meta.ivNonce ? { ciphertext: record.data, nonce: record.meta.ivNonce } : { ciphertext: record.data };
  const text = guard(record.key, () => fromUtf8(suite.decrypt(symmetricKey, sealed), "decrypted value"));
  return fromText(text, record.meta.isBinary, record.key);
}

/** Self key: encrypt under my self-encryption key. */
export function sealSelf(selfKey: string, value: AtValue): Sealed {
  return encryptText(selfKey, value);
}

/** Self key: decrypt a record read with `llookup:all`. */
export function openSelf(selfKey: string, record: StoredRecord): AtValue {
  return decryptText(selfKey, record);
}

/** Public key: sign with my encryption private key; base64 text that a request line would not carry intact. */
export function sealPublic(encryptionPrivateKey: string, value: AtValue): Sealed {
  const { text, isBinary } = toText(value);
  if (text === "") throw new AtUsageError("A public value cannot be empty (the protocol has no way to store it)");
  const meta: UpdateMeta = { dataSignature: suite.sign(encryptionPrivateKey, utf8(text)), isEncrypted: false };
  if (isBinary) meta.isBinary = true;
  // A request line cannot hold a newline, and the server trims the line, so edge whitespace would be lost.
  if (/[\r\n]|^\s|\s$/.test(text)) {
    meta.encoding = "base64";
    return { value: toBase64(utf8(text)), meta };
  }
  return { value: text, meta };
}

/** Public key: check the owner's signature, then decode. AtCryptoError when it is missing or wrong. */
export function openPublic(ownerPublicKey: string, record: StoredRecord): AtValue {
  const text = record.meta.encoding === "base64" ? guard(record.key, () => fromUtf8(fromBase64(record.data, "value"), "value")) : record.data;
  const signature = record.meta.dataSignature;
  if (!signature) throw new AtCryptoError(`${record.key} carries no dataSignature; cannot prove who wrote it`);
  if (!suite.verify(ownerPublicKey, utf8(text), signature)) {
    throw new AtCryptoError(`Signature of ${record.key} does not verify against the owner's public key (tampered, or the owner changed keys)`);
  }
  return fromText(text, record.meta.isBinary, record.key);
}

/** A shared key between me and one recipient: the AES key text and its copy wrapped for the recipient. */
export interface SharedKey {
  key: string;
  wrappedForRecipient: string;
  recipientPublicKey: string;
}

/** Shared key: encrypt under the shared key and attach the wrapped key and the recipient key checksum. */
export function sealShared(shared: SharedKey, value: AtValue): Sealed {
  const sealed = encryptText(shared.key, value);
  sealed.meta.sharedKeyEnc = shared.wrappedForRecipient;
  sealed.meta.pubKeyCS = publicKeyChecksum(shared.recipientPublicKey);
  return sealed;
}

/**
 * A shared value its writer did not mark `isEncrypted` (the C SDK sets only `ivNonce`): decrypted like a
 * marked one when it decrypts, as the Dart SDK reads such data, else the stored text as it is. `decrypt`
 * runs the whole recovery (finding the key included), so a value without any shared key is returned as is too.
 */
function openUnmarkedShared(record: StoredRecord, decrypt: (marked: StoredRecord) => AtValue): AtValue {
  try {
    return decrypt({ ...record, meta: { ...record.meta, isEncrypted: true } });
  } catch (e) {
    if (e instanceof AtCryptoError) return fromText(record.data, record.meta.isBinary, record.key);
    throw e;
  }
}

/** Shared key, as its owner: decrypt with the shared key I created. */
export function openSharedAsOwner(sharedKey: string, record: StoredRecord): AtValue {
  if (!record.meta.isEncrypted) return openUnmarkedShared(record, (r) => decryptText(sharedKey, r));
  return decryptText(sharedKey, record);
}

/**
 * Shared key, as its recipient: unwrap the shared key with my encryption private key (from `sharedKeyEnc`,
 * else from `wrappedFallback`, the owner's `@me:shared_key@owner`) and decrypt. `pubKeyCS` must match my key.
 */
export function openSharedAsRecipient(my: { encryptionPublicKey: string; encryptionPrivateKey: string }, record: StoredRecord, wrappedFallback?: string): AtValue {
  const cs = record.meta.pubKeyCS;
  if (cs && cs !== publicKeyChecksum(my.encryptionPublicKey)) {
    throw new AtCryptoError(`${record.key} was encrypted for another public key of this @sign (pubKeyCS mismatch); ask the owner to share it again`);
  }
  const open = (r: StoredRecord) => {
    const wrapped = r.meta.sharedKeyEnc ?? wrappedFallback;
    if (!wrapped) throw new AtCryptoError(`${r.key} carries no sharedKeyEnc and no shared key was found`);
    return decryptText(guard(r.key, () => suite.unwrapKey(wrapped, my.encryptionPrivateKey)), r);
  };
  return record.meta.isEncrypted ? open(record) : openUnmarkedShared(record, open);
}

/** Wraps a shared key for a public key (the recipient's, or my own for my copy). */
export function wrapFor(publicKey: string, key: string): string {
  return suite.wrapKey(key, publicKey);
}

/** Unwraps my copy of a shared key. */
export function unwrapMine(encryptionPrivateKey: string, wrapped: string, name: string): string {
  return guard(name, () => suite.unwrapKey(wrapped, encryptionPrivateKey));
}

/** A fresh AES-256 key text. */
export function newSymmetricKey(): string {
  return suite.generateSymmetricKey();
}
