/**
 * The macaroon identifier of an L402 token, laid out as Lightning Labs' Aperture lays it out, so Aperture's
 * clients and tools read our tokens (verification still needs our root key):
 *
 *   version (uint16, big-endian; 0) | payment hash (32 bytes) | token id (32 bytes)   = 66 bytes
 *
 * The payment hash binds the token to one invoice: the holder proves payment with its preimage.
 */

/** The only identifier version defined (Aperture's LatestVersion). */
export const L402_ID_VERSION = 0;
/** sha256 of the preimage. */
export const PAYMENT_HASH_BYTES = 32;
/** Random token id, unique per minted token. */
export const TOKEN_ID_BYTES = 32;
/** Whole v0 identifier: 66 bytes. */
export const L402_ID_BYTES = 2 + PAYMENT_HASH_BYTES + TOKEN_ID_BYTES;

/** The fields of a v0 identifier. */
export interface L402Identifier {
  paymentHash: Uint8Array;
  tokenId: Uint8Array;
}

/**
 * Encodes a version-0 identifier.
 * @example const id = encodeL402Identifier({ paymentHash, tokenId: crypto.getRandomValues(new Uint8Array(32)) });
 */
export function encodeL402Identifier(id: L402Identifier): Uint8Array {
  if (id.paymentHash.length !== PAYMENT_HASH_BYTES) throw new RangeError(`Cannot encode L402 identifier: payment hash of ${id.paymentHash.length} bytes, need ${PAYMENT_HASH_BYTES}`);
  if (id.tokenId.length !== TOKEN_ID_BYTES) throw new RangeError(`Cannot encode L402 identifier: token id of ${id.tokenId.length} bytes, need ${TOKEN_ID_BYTES}`);
  const out = new Uint8Array(L402_ID_BYTES);
  new DataView(out.buffer).setUint16(0, L402_ID_VERSION);
  out.set(id.paymentHash, 2);
  out.set(id.tokenId, 2 + PAYMENT_HASH_BYTES);
  return out;
}

/** Decodes an identifier; returns a reason string when it is not a version-0 L402 identifier. */
export function decodeL402Identifier(bytes: Uint8Array): L402Identifier | string {
  if (bytes.length < 2) return "identifier too short";
  const version = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(0);
  if (version !== L402_ID_VERSION) return `unknown identifier version ${version}`;
  if (bytes.length !== L402_ID_BYTES) return `identifier of ${bytes.length} bytes, need ${L402_ID_BYTES}`;
  return { paymentHash: bytes.slice(2, 2 + PAYMENT_HASH_BYTES), tokenId: bytes.slice(2 + PAYMENT_HASH_BYTES) };
}
