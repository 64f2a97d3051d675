/**
 * How an approver hands the @sign's default keys to a new device (ATPROTOCOL.md §8.2): the device sends its
 * APKAM symmetric key RSA-wrapped with the @sign's encryption public key; the approver unwraps it and
 * AES-encrypts (all-zero IV, as the reference does) the encryption private key and the self-encryption key.
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { aesCtrDecrypt, aesCtrEncrypt, atSdkSuite, CryptoError, fromBase64, fromUtf8, toBase64, utf8 } from "../../core/crypto/index.ts";
import { AtCryptoError } from "../errors.ts";

/** The two wrapped default keys, named as the `enroll:approve` parameters. */
export interface WrappedDefaultKeys {
  encryptedDefaultEncryptionPrivateKey: string;
  encryptedDefaultSelfEncryptionKey: string;
}

/** Approver side: unwraps the device's APKAM symmetric key and wraps the default keys with it. */
export function wrapDefaultKeys(
  encryptedApkamSymmetricKey: string,
  mine: { encryptionPrivateKey: string; selfEncryptionKey: string },
): WrappedDefaultKeys {
  let apkamKey: string;
  try {
    apkamKey = atSdkSuite.unwrapKey(encryptedApkamSymmetricKey, mine.encryptionPrivateKey);
  } catch (e) {
    if (!(e instanceof CryptoError)) throw e;
    throw new AtCryptoError(`The request's APKAM key cannot be opened with this device's encryption key (${e.message})`, { cause: e });
  }
  const seal = (text: string) => toBase64(aesCtrEncrypt(apkamKey, utf8(text)));
  return { encryptedDefaultEncryptionPrivateKey: seal(mine.encryptionPrivateKey), encryptedDefaultSelfEncryptionKey: seal(mine.selfEncryptionKey) };
}

/** New-device side: decrypts one wrapped default key with the APKAM symmetric key. */
export function unwrapDefaultKey(apkamSymmetricKey: string, wrapped: string, what: string): string {
  try {
    return fromUtf8(aesCtrDecrypt(apkamSymmetricKey, fromBase64(wrapped, what)), what);
  } catch (e) {
    if (!(e instanceof CryptoError)) throw e;
    throw new AtCryptoError(`Cannot decrypt the ${what} the approver sent (${e.message})`, { cause: e });
  }
}

/**
 * Checks that an RSA private key (base64 PKCS#8) belongs to a public key (base64 SPKI): CTR has no integrity
 * check, so this is what tells a device that its approver wrapped the right key.
 */
export function privateKeyMatches(privateKey: string, publicKey: string): boolean {
  try {
    const derived = createPublicKey(createPrivateKey({ key: Buffer.from(privateKey, "base64"), format: "der", type: "pkcs8" }));
    return derived.export({ format: "der", type: "spki" }).toString("base64") === publicKey;
  } catch {
    return false;
  }
}
