import { addFirstPartyCaveat, decodeBinary, decodeBase64Tolerant, encodeBase64Url, encodeBinaryV2, MacaroonError, mintMacaroon, type Macaroon } from "../../../core/macaroon/index.ts";
import { capabilityConditions, type CapabilityCaveats } from "./capability_caveats.ts";

/** First byte of a capability identifier; lets the format change later without confusing old tokens. */
export const CAPABILITY_ID_VERSION = 1;
/** Random bytes after the version byte: enough that two grants never share an identifier. */
export const CAPABILITY_ID_RANDOM_BYTES = 16;
/** Longest capability token text we try to decode (base64 of a binary macaroon). */
export const MAX_CAPABILITY_TEXT_CHARS = 8_192;

/**
 * Mints a capability for an API: a macaroon under the API owner's root key with the given caveats.
 * @example const token = mintCapability(rootKey, { atSign: "@bob", pathPrefix: "/v1", methods: ["GET"] });
 */
export function mintCapability(rootKey: Uint8Array, caveats: CapabilityCaveats, opts: { location?: string } = {}): Macaroon {
  const identifier = new Uint8Array(1 + CAPABILITY_ID_RANDOM_BYTES);
  identifier[0] = CAPABILITY_ID_VERSION;
  crypto.getRandomValues(identifier.subarray(1));
  return attenuateCapability(mintMacaroon({ rootKey, identifier, location: opts.location }), caveats);
}

/**
 * Narrows a capability (any holder can do this, no key needed) before handing it on.
 * @example const forCarol = attenuateCapability(token, { atSign: "@carol", rpm: 10 });
 */
export function attenuateCapability(token: Macaroon, caveats: CapabilityCaveats): Macaroon {
  return capabilityConditions(caveats).reduce<Macaroon>((m, c) => addFirstPartyCaveat(m, c), token);
}

/** Token text: URL-safe base64 of the v2 binary macaroon (fits a header, a URL or a CLI flag). */
export function encodeCapability(token: Macaroon): string {
  return encodeBase64Url(encodeBinaryV2(token));
}

/**
 * Reads token text (either base64 alphabet). Throws MacaroonError on malformed text.
 * @example const token = decodeCapability(c.req.header("x-capability") ?? "");
 */
export function decodeCapability(text: string): Macaroon {
  if (text.length > MAX_CAPABILITY_TEXT_CHARS) throw new MacaroonError("too_large", `Cannot decode capability: ${text.length} characters`);
  return decodeBinary(decodeBase64Tolerant(text.trim(), "capability"));
}
