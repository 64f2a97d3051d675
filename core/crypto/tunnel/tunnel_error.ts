/** Why a tunnel stream or handshake was refused; callers close the stream on any of them. */
export type TunnelErrorReason =
  | "tampered" // a record failed authentication: modified, replayed, reordered or under the wrong key
  | "truncated" // the byte stream ended without the authenticated end-of-stream record
  | "malformed" // a record header is impossible (length over the limit, data after the end record)
  | "bad_handshake"; // a key-agreement offer is invalid: signature, names, roles, session or key

/** The one error of core/crypto/tunnel. */
export class TunnelError extends Error {
  override readonly name = "TunnelError";
  constructor(
    readonly reason: TunnelErrorReason,
    message: string,
  ) {
    super(message);
  }
}
