import { timingSafeEqual } from "node:crypto";
import { utf8 } from "./encoding.ts";

/**
 * Compares two secrets without leaking where they differ. Strings are compared as UTF-8. Unequal lengths
 * return false at once: the length of a digest or token is public, its content is not.
 * @example constantTimeEqual(cramDigest(secret, challenge), received)
 */
export function constantTimeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const x = typeof a === "string" ? utf8(a) : a;
  const y = typeof b === "string" ? utf8(b) : b;
  return x.byteLength === y.byteLength && timingSafeEqual(x, y);
}
