/**
 * Tunnel key agreement: ephemeral X25519, each half signed by its @sign's key, HKDF-SHA256 into one key per
 * direction and per stream. The relay never sees any of it (offers travel in encrypted notifications).
 *
 * Flow: the initiator (the user's client) and the responder (the device daemon) each make an offer
 * `{v, sessionId, role, from, to, eph, algo, sig}` and send it to the other; each verifies the other's offer
 * with the peer's public key and derives the same session secret:
 *
 *   signed(offer) = "inlay tunnel offer v1\0" | u8 role (0 initiator, 1 responder) | u8 n | sessionId
 *                   | u8 n | from | u8 n | to | 32 B ephemeral X25519 public key
 *   secret        = HKDF-SHA256(ikm = X25519(mine, theirs), salt = SHA-256(signed(initiator) | signed(responder)),
 *                   info = "inlay tunnel v1 session", 32 bytes)
 *   stream keys   = HKDF-SHA256(ikm = secret, salt = empty, info = "inlay tunnel v1 stream" | u32 BE index | "i2r"/"r2i")
 *
 * A signature binds the ephemeral key to the @sign, the peer and the (fresh, random) session id, so an offer
 * cannot be replayed into another session; the salt binds the secret to both offers. Fresh ephemeral keys per
 * session give forward secrecy.
 */
import { type KeyObject, createHash, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync } from "node:crypto";
import { Buffer } from "node:buffer";
import { ENGLISH } from "../../zod_english.ts";
import { z } from "zod/mini";
import { fromBase64, toBase64 } from "../encoding.ts";
import { AT_SIGN_SIGNING_ALGOS, type AtSignSigningAlgo, type AtSignSigningKey } from "./at_sign_signature.ts";
import { signAsAtSign, verifyAtSignSignatureSync } from "./at_sign_signer.ts";
import { TUNNEL_KEY_BYTES } from "./record.ts";
import { TunnelError } from "./tunnel_error.ts";

/** Version of the offer format. 1: first release. */
export const TUNNEL_HANDSHAKE_VERSION = 1;
/** Size of an X25519 public key. */
export const X25519_PUBLIC_KEY_BYTES = 32;
/** Longest offer text accepted by `parseTunnelOffer` (an RSA signature in base64 is 344 characters). */
export const TUNNEL_OFFER_MAX_CHARS = 4096;

/** Which end of the tunnel: the requester initiates, the device responds. */
export type TunnelRole = "initiator" | "responder";

/** One side's signed ephemeral key. */
export interface TunnelOffer {
  version: number;
  sessionId: string;
  role: TunnelRole;
  from: string;
  to: string;
  ephemeralPublicKey: Uint8Array;
  algo: AtSignSigningAlgo;
  signature: Uint8Array;
}

/** An offer together with its ephemeral private key (keep it until the peer's offer arrives, then drop it). */
export interface PendingTunnel {
  offer: TunnelOffer;
  ephemeralPrivateKey: KeyObject;
}

/** The agreed session: derive stream keys from it with `streamKeys`. */
export interface TunnelSession {
  sessionId: string;
  role: TunnelRole;
  secret: Uint8Array;
}

/** Keys of one stream as seen by one side. */
export interface StreamKeys {
  sendKey: Uint8Array;
  receiveKey: Uint8Array;
}

const OFFER_CONTEXT = new TextEncoder().encode("inlay tunnel offer v1\0");
const SESSION_INFO = new TextEncoder().encode("inlay tunnel v1 session");
const STREAM_INFO = new TextEncoder().encode("inlay tunnel v1 stream");
const encoder = new TextEncoder();

/**
 * Makes this side's offer.
 * @example const mine = createTunnelOffer({ sessionId, role: "initiator", atSign: "@bob", peerAtSign: "@device", key });
 */
export function createTunnelOffer(p: { sessionId: string; role: TunnelRole; atSign: string; peerAtSign: string; key: AtSignSigningKey }): PendingTunnel {
  const { publicKey, privateKey } = generateKeyPairSync("x25519");
  const ephemeralPublicKey = rawX25519(publicKey);
  const unsigned = { version: TUNNEL_HANDSHAKE_VERSION, sessionId: p.sessionId, role: p.role, from: p.atSign, to: p.peerAtSign, ephemeralPublicKey, algo: p.key.algo };
  const signature = signAsAtSign(p.key, offerSignedBytes(unsigned));
  return { offer: { ...unsigned, signature }, ephemeralPrivateKey: privateKey };
}

/**
 * Checks the peer's offer against ours and the peer's public key (`public:publickey@<peer>`), then derives
 * the session. Throws TunnelError("bad_handshake") for any mismatch or a bad signature.
 */
export function acceptTunnelOffer(mine: PendingTunnel, theirs: TunnelOffer, peerPublicKey: string): TunnelSession {
  const m = mine.offer;
  const bad = (why: string) => new TunnelError("bad_handshake", `Cannot accept tunnel offer: ${why}`);
  if (theirs.version !== TUNNEL_HANDSHAKE_VERSION) throw bad(`unsupported version ${theirs.version}`);
  if (theirs.sessionId !== m.sessionId) throw bad("it is for another session");
  if (theirs.role === m.role) throw bad("both sides claim the same role");
  if (theirs.from !== m.to || theirs.to !== m.from) throw bad("it names other @signs");
  if (theirs.ephemeralPublicKey.byteLength !== X25519_PUBLIC_KEY_BYTES) throw bad("ephemeral key has the wrong size");
  if (!verifyAtSignSignatureSync(theirs.algo, peerPublicKey, offerSignedBytes(theirs), theirs.signature)) throw bad(`signature does not verify for ${theirs.from}`);
  let shared: Uint8Array;
  try {
    const peerKey = createPublicKey({ key: { kty: "OKP", crv: "X25519", x: Buffer.from(theirs.ephemeralPublicKey).toString("base64url") }, format: "jwk" });
    shared = new Uint8Array(diffieHellman({ privateKey: mine.ephemeralPrivateKey, publicKey: peerKey }));
  } catch {
    throw bad("ephemeral key is not a valid X25519 key");
  }
  // A low-order peer key forces an all-zero secret (RFC 7748 §6.1); refuse it.
  if (shared.every((b) => b === 0)) throw bad("ephemeral key is a low-order point");
  const [initiator, responder] = m.role === "initiator" ? [m, theirs] : [theirs, m];
  const salt = createHash("sha256").update(offerSignedBytes(initiator)).update(offerSignedBytes(responder)).digest();
  const secret = new Uint8Array(hkdfSync("sha256", shared, salt, SESSION_INFO, TUNNEL_KEY_BYTES));
  return { sessionId: m.sessionId, role: m.role, secret };
}

/** The send and receive keys of stream `index` (0, 1, 2, … — one per relayed connection) for this side. */
export function streamKeys(session: TunnelSession, index: number): StreamKeys {
  if (!Number.isInteger(index) || index < 0 || index > 0xffff_ffff) throw new RangeError(`Cannot derive stream keys: bad index ${index}`);
  const derive = (direction: string) => {
    const info = new Uint8Array(STREAM_INFO.byteLength + 4 + 3);
    info.set(STREAM_INFO, 0);
    new DataView(info.buffer).setUint32(STREAM_INFO.byteLength, index);
    info.set(encoder.encode(direction), STREAM_INFO.byteLength + 4);
    return new Uint8Array(hkdfSync("sha256", session.secret, new Uint8Array(0), info, TUNNEL_KEY_BYTES));
  };
  const i2r = derive("i2r");
  const r2i = derive("r2i");
  return session.role === "initiator" ? { sendKey: i2r, receiveKey: r2i } : { sendKey: r2i, receiveKey: i2r };
}

/** The bytes an offer's signature covers. */
export function offerSignedBytes(o: Omit<TunnelOffer, "signature" | "algo" | "version">): Uint8Array {
  const parts = [o.sessionId, o.from, o.to].map((s) => encoder.encode(s));
  for (const p of parts) if (p.byteLength === 0 || p.byteLength > 255) throw new RangeError("Cannot sign tunnel offer: names must be 1 to 255 bytes");
  const out = new Uint8Array(OFFER_CONTEXT.byteLength + 1 + parts.reduce((n, p) => n + 1 + p.byteLength, 0) + o.ephemeralPublicKey.byteLength);
  out.set(OFFER_CONTEXT, 0);
  let i = OFFER_CONTEXT.byteLength;
  out[i++] = o.role === "initiator" ? 0 : 1;
  for (const p of parts) {
    out[i++] = p.byteLength;
    out.set(p, i);
    i += p.byteLength;
  }
  out.set(o.ephemeralPublicKey, i);
  return out;
}

const name = z.string().check(z.minLength(1), z.maxLength(255));
const offerJson = z.strictObject({
  v: z.literal(TUNNEL_HANDSHAKE_VERSION),
  sessionId: name,
  role: z.enum(["initiator", "responder"]),
  from: name,
  to: name,
  eph: z.string(),
  algo: z.enum(Object.keys(AT_SIGN_SIGNING_ALGOS) as [AtSignSigningAlgo, ...AtSignSigningAlgo[]]),
  sig: z.string(),
});

/** The offer as JSON text (for a notification body). */
export function encodeTunnelOffer(o: TunnelOffer): string {
  return JSON.stringify({ v: o.version, sessionId: o.sessionId, role: o.role, from: o.from, to: o.to, eph: toBase64(o.ephemeralPublicKey), algo: o.algo, sig: toBase64(o.signature) });
}

/** Parses an offer received from the peer; TunnelError("bad_handshake") for anything malformed. */
export function parseTunnelOffer(text: string): TunnelOffer {
  if (text.length > TUNNEL_OFFER_MAX_CHARS) throw new TunnelError("bad_handshake", "Cannot parse tunnel offer: too long");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new TunnelError("bad_handshake", "Cannot parse tunnel offer: not JSON");
  }
  const r = offerJson.safeParse(raw, ENGLISH);
  if (!r.success) throw new TunnelError("bad_handshake", `Cannot parse tunnel offer: ${r.error.issues[0]?.message ?? "invalid"}`);
  try {
    const d = r.data;
    return { version: d.v, sessionId: d.sessionId, role: d.role, from: d.from, to: d.to, ephemeralPublicKey: fromBase64(d.eph, "ephemeral key"), algo: d.algo, signature: fromBase64(d.sig, "signature") };
  } catch {
    throw new TunnelError("bad_handshake", "Cannot parse tunnel offer: bad base64");
  }
}

function rawX25519(publicKey: KeyObject): Uint8Array {
  const der = publicKey.export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(der.byteLength - X25519_PUBLIC_KEY_BYTES));
}
