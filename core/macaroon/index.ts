/**
 * Macaroons interoperable with libmacaroons, go-macaroon and the npm `macaroon` package: minting,
 * first- and third-party caveats, discharge binding, verification with a caveat checker, and the v2
 * binary / v2 JSON formats (v1 read and, for binary, written).
 *
 * @example
 * ```ts
 * import { mintMacaroon, addFirstPartyCaveat, encodeBinaryV2, encodeBase64Std } from "../core/macaroon/index.ts";
 * const m = addFirstPartyCaveat(mintMacaroon({ rootKey, identifier }), "methods = GET");
 * const header = encodeBase64Std(encodeBinaryV2(m));
 * ```
 */
export { decodeBase64Tolerant, encodeBase64Std, encodeBase64Url } from "./base64.ts";
export { decodeBinary, decodeBinaryAll, encodeBinaryV1, encodeBinaryV2 } from "./binary.ts";
export { decodeJson, encodeJsonV2 } from "./json.ts";
export * from "./limits.ts";
export {
  addFirstPartyCaveat,
  addThirdPartyCaveat,
  bindDischarge,
  firstPartyConditions,
  mintMacaroon,
  verifyMacaroon,
  type Caveat,
  type CaveatChecker,
  type CaveatContext,
  type Macaroon,
  type MintOptions,
  type VerifyFailure,
  type VerifyResult,
} from "./macaroon.ts";
export { MacaroonError, type MacaroonErrorReason } from "./macaroon_error.ts";
export { decodeMacaroonText } from "./decode_macaroon_text.ts";
