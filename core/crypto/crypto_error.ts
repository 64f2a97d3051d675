/**
 * The one error type of core/crypto. `reason` is a stable machine-readable tag so callers (the client's
 * typed errors, the server's AT codes) can map it without parsing the message.
 */
export type CryptoErrorReason =
  | "bad_encoding" // text is not valid base64 / hex / UTF-8 of the expected shape
  | "bad_key" // key text does not parse as the expected key type
  | "decrypt_failed" // wrong key, tampered ciphertext or bad padding
  | "unsupported"; // unknown algorithm or suite id

/** Raised by every core/crypto function on bad input, wrong keys or tampered data. */
export class CryptoError extends Error {
  override readonly name = "CryptoError";
  constructor(
    readonly reason: CryptoErrorReason,
    message: string,
  ) {
    super(message);
  }
}
