/**
 * The callee's checks of a server-to-server session (ATPROTOCOL.md §4.3, callee side):
 * - on `from:@other`: the client certificate presented in the TLS handshake must chain to a CA we trust for
 *   other servers and name the host the directory publishes for @other;
 * - on `pol`: a reverse connection to @other's server reads `public:_<session>@other`,
 *   `public:signing_publickey@other` and `public:_pol_bound@other`, and the signature must verify over the
 *   proof we issued (bound to us, @other and the session when @other signs the bound form), all within 3 s.
 */
import type { X509Certificate } from "node:crypto";
import { fromBase64, utf8 } from "../../core/crypto/encoding.ts";
import { ipVersion } from "../../core/net/ip_version.ts";
import { verifySignature } from "../../core/crypto/verify_signature.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import type { Connection } from "../connection.ts";
import type { ServerContext } from "../context.ts";
import { exchangeLines } from "../line_client.ts";
import { BOUND_POL_ADVERT_NAME, BOUND_POL_VERSION, boundPayload, readPublishedProof } from "./pol_proof.ts";

/** Deadline of the whole reverse verification (the caller waits 3 s for our `pol` answer). */
export const POL_VERIFY_TIMEOUT_MS = 3_000;

const certFailure = (why: string) => new AtProtocolError("AT0401", `Certificate Verification Failed: ${why}`);

// Parsed CA certificates per CA list (the list of a server never changes; parsing ~150 roots once is enough).
const parsedCas = new WeakMap<string[], X509Certificate[]>();

async function trusted(list: string[]): Promise<X509Certificate[]> {
  let parsed = parsedCas.get(list);
  if (!parsed) {
    // node:crypto (~5 MiB RSS) only once a server presents a certificate the TLS stack did not already accept.
    const { X509Certificate } = await import("node:crypto");
    parsed = [];
    for (const pem of list) {
      try {
        parsed.push(new X509Certificate(pem));
      } catch {
        // A malformed entry in a CA bundle is skipped, like TLS stacks do.
      }
    }
    parsedCas.set(list, parsed);
  }
  return parsed;
}

/** Whether `cert` is signed directly by one of `cas` and is within its validity period. */
async function issuedByTrustedCa(cert: X509Certificate, cas: string[], now = Date.now()): Promise<boolean> {
  if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) return false;
  return (await trusted(cas)).some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
}

/**
 * Checks the client certificate of `conn` for a `from:@other` by another server. Throws AT0401
 * "Certificate Verification Failed" when there is none, it is not trusted, or it does not name @other's host.
 */
export async function checkPeerCertificate(ctx: ServerContext, conn: Connection, atSign: string): Promise<void> {
  if (!ctx.remote) throw certFailure(`this server has no directory to find ${atSign}`);
  const cert = conn.peerCertificate();
  if (!cert) throw certFailure("no client certificate was presented");
  if (!conn.peerAuthorized() && !(await issuedByTrustedCa(cert, ctx.remote.ca))) throw certFailure("the client certificate is not issued by a trusted CA");
  const { host } = await ctx.remote.resolve(atSign);
  const names = ipVersion(host) ? cert.checkIP(host) : cert.checkHost(host);
  if (!names) throw certFailure(`the client certificate does not name ${host}, the host of ${atSign}`);
}

/**
 * Verifies over a reverse connection that `atSign`'s server signed `challenge` for this session and published
 * the signature as `public:<sessionKey>`: in the bound form (naming us, the caller and the session), or in the
 * reference form unless that server says it signs the bound form. Resolves null when it did, else the reason;
 * throws AT0021 when that server cannot be reached in time.
 */
export async function verifyPolProof(ctx: ServerContext, atSign: string, sessionKey: string, challenge: string): Promise<string | null> {
  if (!ctx.remote) return "this server has no directory";
  const addr = await ctx.remote.resolve(atSign);
  let answers: string[];
  try {
    const lines = [`lookup:${sessionKey}`, `lookup:signing_publickey${atSign}`, `lookup:${BOUND_POL_ADVERT_NAME}${atSign}`];
    answers = await exchangeLines({ ...addr, ca: ctx.remote.ca }, lines, POL_VERIFY_TIMEOUT_MS);
  } catch (err) {
    ctx.remote.forget(atSign);
    throw new AtProtocolError("AT0021", `Unable to verify pol with ${atSign}: ${(err as Error).message}`);
  }
  const [sig = "", key = "", advert = ""] = answers;
  const unsigned = `${atSign} did not sign the proof`;
  if (!sig.startsWith("data:") || !key.startsWith("data:") || sig === "data:null" || key === "data:null") return unsigned;
  const published = readPublishedProof(sig.slice(5));
  if (!published.bound && advert === `data:${BOUND_POL_VERSION}`) return `${atSign} signs the bound form; a reference-form proof in its name is refused`;
  const signed = published.bound ? boundPayload({ callee: ctx.atSign, caller: atSign, sessionKey, challenge }) : challenge;
  let signature: Uint8Array;
  try {
    signature = fromBase64(published.signature, "pol signature");
  } catch {
    return unsigned;
  }
  return (await verifySignature("rsa-sha256", key.slice(5), utf8(signed), signature)) ? null : unsigned;
}
