/**
 * The forms of a server-to-server proof (server/README.md, "Server-to-server auth"): the challenge a callee
 * issues on `from:@caller`, what a caller agrees to sign, and the bound form Inlay servers sign for each other.
 *
 * The reference form signs the callee's challenge alone, so a signature made for one callee is good at any
 * other that issued the same challenge: an operator who gets @bob's server to dial it can relay another
 * server's challenge and become @bob there. Against that:
 * - our challenge names the callee (`pol1.<base64url JSON {v: callee, n: nonce, bound}>`, the shape of the
 *   reference's verifier-bound challenge), and a caller refuses to sign one naming anyone but whom it dialed;
 * - `bound` offers the bound form: the caller signs `boundPayload` (callee as dialed, caller, session key,
 *   challenge) and publishes `inlay1:<signature>`;
 * - each Inlay server publishes `public:_pol_bound@<itself>` so a callee can refuse the reference form from it.
 */
import * as z from "zod/mini";
import { fromBase64, fromUtf8, toBase64, utf8 } from "../../core/crypto/encoding.ts";
import { normalizeAtSign } from "../../core/atsign.ts";

/** Version of the bound form: the challenge's offer, the published proof's prefix and the advertised value. */
export const BOUND_POL_VERSION = "inlay1";
/** Longest challenge a caller signs (ours are ~150 characters, the reference's a UUID or ~100). */
export const POL_CHALLENGE_MAX_CHARS = 512;
/** Prefix of the reference's verifier-bound challenge. */
const NAMED_CHALLENGE_PREFIX = "pol1.";
/** Domain separation of the bound payload from every other signature made with the signing key. */
const BOUND_PAYLOAD_CONTEXT = `inlay s2s pol ${BOUND_POL_VERSION}`;

/** Name of the hidden public key (`public:_...`: never committed nor listed) where a server says it signs the bound form. */
export const BOUND_POL_ADVERT_NAME = "_pol_bound";
export const boundPolAdvertKey = (atSign: string) => `public:${BOUND_POL_ADVERT_NAME}${atSign}`;

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const UUID_RE = new RegExp(`^${UUID}$`);
// `proof:_<session uuid>@<caller>:<challenge>`: the only key a callee may have us publish is a session key of ours.
const PROOF_ANSWER_RE = new RegExp(`^proof:(_${UUID})(@[^:@\\s]+):([^:\\s]+)$`);
const NAMED_CHALLENGE_RE = /^pol1\.([A-Za-z0-9_-]+={0,2})$/;

// Sizes are bounded by POL_CHALLENGE_MAX_CHARS; `v` must then be a valid @sign.
const namedChallengeSchema = z.object({ v: z.string(), n: z.optional(z.string()), bound: z.optional(z.string()) });

/** What a callee asked us to sign, once we agreed to sign it. */
export interface ProofRequest {
  /** `_<session>@<us>`: published as `public:<sessionKey>`. */
  sessionKey: string;
  challenge: string;
  /** The callee offered the bound form: sign `boundPayload`, publish `inlay1:<signature>`. */
  bound: boolean;
}

/** A challenge naming `callee`, with a fresh nonce and the bound-form offer. */
export function issueChallenge(callee: string): string {
  const json = JSON.stringify({ v: callee, n: crypto.randomUUID(), bound: BOUND_POL_VERSION });
  // Padded base64url, as the reference's decoder wants: no `:` (the answer is split on it), no whitespace.
  return NAMED_CHALLENGE_PREFIX + toBase64(utf8(json)).replaceAll("+", "-").replaceAll("/", "_");
}

/**
 * Reads a callee's `from:` answer payload; throws (with the reason) unless it is a proof we may sign: a session
 * key of ours, and a challenge that is a bare UUID (the reference's, which names no one) or one naming `dialed`
 * (canonical, as whom we dialed).
 * @example readProofAnswer("proof:_<uuid>@bob:<uuid>", "@bob", "@alice") // { sessionKey: "_<uuid>@bob", bound: false, ... }
 */
export function readProofAnswer(payload: string, own: string, dialed: string): ProofRequest {
  const m = PROOF_ANSWER_RE.exec(payload);
  if (!m || m[2] !== own) throw new Error(`the answer is not a proof for a session of ${own}: ${payload.slice(0, 100)}`);
  const challenge = m[3]!;
  if (challenge.length > POL_CHALLENGE_MAX_CHARS) throw new Error(`the challenge is longer than ${POL_CHALLENGE_MAX_CHARS} characters`);
  const sessionKey = m[1]! + own;
  if (UUID_RE.test(challenge)) return { sessionKey, challenge, bound: false };
  const named = NAMED_CHALLENGE_RE.exec(challenge);
  if (!named) throw new Error("the challenge is neither a UUID nor a challenge naming its callee");
  const body = decodeNamedChallenge(named[1]!);
  if (body === null) throw new Error("the challenge naming its callee is malformed");
  if (body.v !== dialed) throw new Error(`the challenge was issued by ${body.v.slice(0, 100)}, not by ${dialed} whom we called`);
  return { sessionKey, challenge, bound: body.bound === BOUND_POL_VERSION };
}

function decodeNamedChallenge(b64url: string): { v: string; bound?: string } | null {
  try {
    const padded = b64url.padEnd(b64url.length + ((4 - (b64url.length % 4)) % 4), "=");
    const text = fromUtf8(fromBase64(padded.replaceAll("-", "+").replaceAll("_", "/"), "challenge"), "challenge");
    const body = namedChallengeSchema.parse(JSON.parse(text));
    return { ...body, v: normalizeAtSign(body.v) };
  } catch {
    return null;
  }
}

/**
 * The text a caller signs in the bound form and the callee rebuilds from its own state. `callee` is whom the
 * caller dialed (never read from the callee's answer), so a signature made for one callee fails at every other.
 */
export function boundPayload(p: { callee: string; caller: string; sessionKey: string; challenge: string }): string {
  // None of the parts can hold a NUL (canonical @signs, a checked session key and challenge).
  return [BOUND_PAYLOAD_CONTEXT, p.callee, p.caller, p.sessionKey, p.challenge].join("\0");
}

/** The value a caller publishes under `public:<sessionKey>` for `signature` (base64). */
export const publishedProof = (signature: string, bound: boolean) => (bound ? `${BOUND_POL_VERSION}:${signature}` : signature);

/** Reads a published proof: the bound form's prefix, or a bare (reference form) signature. */
export function readPublishedProof(value: string): { bound: boolean; signature: string } {
  const prefix = `${BOUND_POL_VERSION}:`;
  return value.startsWith(prefix) ? { bound: true, signature: value.slice(prefix.length) } : { bound: false, signature: value };
}
