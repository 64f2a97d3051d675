/**
 * Size limits for macaroons we mint or accept. Tokens arrive in HTTP headers from strangers, so every part
 * has a ceiling; all are far above what our own tokens use (an L402 identifier is 66 bytes, a capability
 * caveat a few dozen).
 */

/** Most caveats in one macaroon (first- and third-party together). */
export const MAX_CAVEATS = 64;
/** Longest identifier, caveat id, verification id or location, in bytes. */
export const MAX_FIELD_BYTES = 4_096;
/** Longest encoded macaroon (binary form) we decode, in bytes. */
export const MAX_MACAROON_BYTES = 65_536;
/** Most discharge macaroons accepted alongside one root macaroon. */
export const MAX_DISCHARGES = 8;
/** v1 packets carry a 4-hex-digit length, so no v1 packet can exceed this many bytes. */
export const MAX_V1_PACKET_BYTES = 0xffff;
