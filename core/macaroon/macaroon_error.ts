/**
 * The one error type of core/macaroon. `reason` is a stable tag so callers (capability checks, the L402
 * middleware) can turn it into a precise refusal without parsing the message.
 */
export type MacaroonErrorReason =
  | "bad_encoding" // not base64 / JSON / UTF-8 of the expected shape
  | "malformed" // binary or JSON structure does not follow the v1/v2 format
  | "too_large" // a field, the caveat list or the whole token is over its limit
  | "unsupported_version"; // neither v1 nor v2

/** Raised by the codecs and by minting functions on bad input. Verification never throws: it returns a result. */
export class MacaroonError extends Error {
  override readonly name = "MacaroonError";
  constructor(
    readonly reason: MacaroonErrorReason,
    message: string,
  ) {
    super(message);
  }
}
