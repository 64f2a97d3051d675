/**
 * L402 HTTP headers (bLIP-0026 "L402", formerly LSAT), in the forms Aperture and its clients use.
 *
 * Challenge (server → client), one `WWW-Authenticate` value per form, legacy first because old Aperture
 * clients read only the first value:
 *   LSAT macaroon="<b64>", invoice="<bolt11>"
 *   L402 macaroon="<b64>", invoice="<bolt11>"
 *   L402 version="0", token="<b64>", invoice="<bolt11>"      (current spec wording)
 *
 * Credentials (client → server):
 *   Authorization: L402 <b64 macaroon>[,<b64 discharge>...]:<hex preimage>    (also scheme LSAT; any case)
 * The old spec allowed a base64 preimage; we accept it when it decodes to 32 bytes.
 */
import { decodeBase64Tolerant } from "../../../core/macaroon/index.ts";

/** Longest Authorization value we parse. */
export const MAX_AUTHORIZATION_CHARS = 16_384;
/** Most macaroons (root + discharges) in one credential. */
export const MAX_CREDENTIAL_MACAROONS = 4;
/** A Lightning payment preimage is 32 bytes. */
export const PREIMAGE_BYTES = 32;

/**
 * The `WWW-Authenticate` values for a challenge, in the order to send them.
 * @example for (const v of challengeHeaders(mac, invoice)) headers.append("WWW-Authenticate", v);
 */
export function challengeHeaders(macaroonBase64: string, invoice: string): string[] {
  if (/["\\\r\n]/.test(macaroonBase64 + invoice)) throw new RangeError("Cannot build L402 challenge: quote, backslash or newline in a value");
  const pair = `macaroon="${macaroonBase64}", invoice="${invoice}"`;
  return [`LSAT ${pair}`, `L402 ${pair}`, `L402 version="0", token="${macaroonBase64}", invoice="${invoice}"`];
}

/** A challenge as a client reads it. */
export interface Challenge {
  scheme: "L402" | "LSAT";
  macaroon: string;
  invoice: string;
}

/**
 * Reads one `WWW-Authenticate` value in any of the forms above (key order free, `token` = `macaroon`).
 * Returns undefined for other schemes.
 */
export function parseChallenge(value: string): Challenge | undefined {
  const m = /^\s*(L402|LSAT)\s+(.*)$/i.exec(value);
  if (!m) return undefined;
  const params = new Map<string, string>();
  for (const p of m[2]!.matchAll(/([a-z0-9_]+)="([^"]*)"/gi)) params.set(p[1]!.toLowerCase(), p[2]!);
  const macaroon = params.get("macaroon") ?? params.get("token");
  const invoice = params.get("invoice");
  if (!macaroon || !invoice) return undefined;
  return { scheme: m[1]!.toUpperCase() as "L402" | "LSAT", macaroon, invoice };
}

/** Parsed credentials: base64 macaroon texts (root first) and the 32-byte preimage. */
export interface Credentials {
  macaroons: string[];
  preimage: Uint8Array;
}

/**
 * Parses an `Authorization` value. Returns undefined when it is not an L402/LSAT credential at all (the
 * caller answers with a plain challenge) and a reason string when it is one but malformed.
 */
export function parseAuthorization(value: string | undefined): Credentials | string | undefined {
  if (!value || !/^\s*(?:L402|LSAT)\b/i.test(value)) return undefined;
  if (value.length > MAX_AUTHORIZATION_CHARS) return `credentials longer than ${MAX_AUTHORIZATION_CHARS} characters`;
  const m = /^\s*(?:L402|LSAT)\s+(\S+)\s*$/i.exec(value);
  if (!m) return "credentials are not <macaroon>:<preimage>";
  const token = m[1]!;
  const colon = token.lastIndexOf(":");
  if (colon <= 0) return "credentials are not <macaroon>:<preimage>";
  const macaroons = token.slice(0, colon).split(",");
  if (macaroons.length > MAX_CREDENTIAL_MACAROONS) return `more than ${MAX_CREDENTIAL_MACAROONS} macaroons`;
  const preimage = parsePreimage(token.slice(colon + 1));
  if (!preimage) return "preimage is not 32 bytes of hex";
  return { macaroons, preimage };
}

function parsePreimage(text: string): Uint8Array | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Uint8Array.fromHex(text.toLowerCase());
  try {
    const b = decodeBase64Tolerant(text, "preimage");
    return b.length === PREIMAGE_BYTES ? b : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `Authorization` value a client sends after paying.
 * @example headers.set("Authorization", authorizationHeader(challenge.macaroon, preimageHex));
 */
export function authorizationHeader(macaroonBase64: string, preimageHex: string): string {
  return `L402 ${macaroonBase64}:${preimageHex}`;
}
