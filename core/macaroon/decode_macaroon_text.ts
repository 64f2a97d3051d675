import { decodeBase64Tolerant } from "./base64.ts";
import { decodeBinary } from "./binary.ts";
import { decodeJson } from "./json.ts";
import type { Macaroon } from "./macaroon.ts";

/**
 * Decodes a macaroon given as text: JSON when it starts with `{` or `"`, else base64 of a binary macaroon.
 * @example const m = decodeMacaroonText(headerValue);
 */
export function decodeMacaroonText(text: string): Macaroon {
  const t = text.trim();
  if (t.startsWith("{") || t.startsWith('"')) return decodeJson(t);
  return decodeBinary(decodeBase64Tolerant(t, "macaroon"));
}
