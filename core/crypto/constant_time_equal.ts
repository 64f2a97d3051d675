import { utf8 } from "./encoding.ts";

/**
 * Compares two secrets without leaking where they differ. Strings are compared as UTF-8. Unequal lengths
 * return false at once: the length of a digest or token is public, its content is not. A plain XOR-accumulate
 * loop (no early exit) instead of node:crypto's timingSafeEqual, so the services need not load node:crypto.
 * @example constantTimeEqual(await cramDigest(secret, challenge), received)
 */
export function constantTimeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const x = typeof a === "string" ? utf8(a) : a;
  const y = typeof b === "string" ? utf8(b) : b;
  if (x.byteLength !== y.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < x.byteLength; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}
