/**
 * Relay leg handshake, version 1: how one TCP connection ("leg") proves who it is before the relay joins it
 * to its peer. Both the relay (relay/) and the legs (client tunnels, tests) import this file.
 *
 * Flow, one handshake per TCP connection:
 *
 *   relay → leg  HELLO  "INLR" | u8 version | 32 B random challenge | u8 n | relay @sign (n bytes UTF-8)
 *   leg → relay  AUTH   u32 BE body length (≤ RELAY_AUTH_MAX_BYTES) | body
 *                body = u8 version
 *                     | u8 n | session id (n bytes, SESSION_ID_RE)
 *                     | u8 side ('a' = 0x61 | 'b' = 0x62)
 *                     | u8 n | leg @sign | u8 n | peer @sign        (canonical: "@" + lower case)
 *                     | u8 algo (1 = rsa2048 PKCS#1 v1.5 SHA-256, 2 = ed25519)
 *                     | u16 BE n | signature
 *   relay → leg  OK     one byte 0x01, sent to both legs once they are paired. From then on the connection
 *                       carries opaque bytes (the tunnel's own encrypted records) in both directions.
 *
 * Signed bytes: SIGNING_CONTEXT | challenge | u8 n | relay @sign | body without the trailing u16 + signature.
 * So a signature is bound to one connection (the challenge is fresh per connection: a captured AUTH cannot
 * be replayed, not even into the same session) and to one relay (a relay cannot replay it to another).
 *
 * Failures are not explained on the wire: the relay closes the connection (the leg sees EOF before OK). One
 * exception, because it is no secret and tells the leg to go elsewhere at once: a draining relay (maintenance:
 * live sessions finish, no new ones) sends DRAINING (one byte 0x03) instead of OK, then closes.
 * A leg must not send anything after AUTH until it has read OK.
 *
 * Probe (measuring a relay of a fleet): after HELLO the leg sends PROBE, four zero bytes (an AUTH frame with an
 * empty body); the relay answers one byte, OPEN (0x02) or DRAINING (0x03), and closes. Connect → answer is the
 * relay's round trip as a leg would see it, its load included, and says whether it takes new sessions.
 *
 * Why plain TCP, no TLS: the relay only copies bytes it cannot read (tunnel records are AES-256-GCM with
 * keys the relay never sees), TLS would cost about two-thirds of a stream's throughput on Bun
 * (perf/ANCHORS.md §7), and the challenge stops replay. What an on-path observer still learns is metadata:
 * both @signs and the session id of each leg.
 */
import { AT_SIGN_SIGNING_ALGOS, type AtSignSigningAlgo, signingAlgoFromCode } from "../crypto/tunnel/at_sign_signature.ts";

/** Version byte of HELLO and AUTH. 1: first release. */
export const RELAY_PROTOCOL_VERSION = 1;
/** HELLO starts with these bytes so a leg that reached the wrong service fails fast. */
export const RELAY_MAGIC = new Uint8Array([0x49, 0x4e, 0x4c, 0x52]); // "INLR"
/** Size of the relay's per-connection challenge. */
export const RELAY_CHALLENGE_BYTES = 32;
/** All a leg may send before it is authenticated (room for large post-quantum signatures later). */
export const RELAY_PREAUTH_LIMIT_BYTES = 16 * 1024;
/** How long a leg has to complete AUTH (and the relay to verify it). */
export const RELAY_PREAUTH_TIMEOUT_MS = 10_000;
/** Longest AUTH body; the 4-byte length prefix counts against RELAY_PREAUTH_LIMIT_BYTES too. */
export const RELAY_AUTH_MAX_BYTES = RELAY_PREAUTH_LIMIT_BYTES - 4;
/** Longest HELLO the leg accepts (magic, version, challenge, one length-prefixed @sign). */
export const RELAY_HELLO_MAX_BYTES = 4 + 1 + RELAY_CHALLENGE_BYTES + 1 + 255;
/** The byte the relay sends to each leg once both are paired. */
export const RELAY_OK = 0x01;
/** What a probe hears from a relay that takes new sessions. */
export const RELAY_OPEN = 0x02;
/** Sent instead of OK (and as a probe's answer) by a draining relay: it pairs no new sessions. */
export const RELAY_DRAINING = 0x03;
/** A probe: an AUTH length prefix of 0 (no body). */
export const RELAY_PROBE = new Uint8Array(4);
/** Session ids: opaque printable tokens (a UUID, or `<uuid>.<stream>` for one stream of a tunnel). */
export const SESSION_ID_RE = /^[A-Za-z0-9._:-]{8,128}$/;

const SIGNING_CONTEXT = new TextEncoder().encode("inlay relay auth v1\0");
const SIDE_A = 0x61;
const SIDE_B = 0x62;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Which end of a session a leg is: `a` dials in for the requester, `b` for the device. */
export type RelaySide = "a" | "b";

/** What the relay sends first. */
export interface RelayHello {
  version: number;
  challenge: Uint8Array;
  relayAtSign: string;
}

/** The fields of AUTH that are signed. */
export interface LegAuthFields {
  sessionId: string;
  side: RelaySide;
  atSign: string;
  peerAtSign: string;
  algo: AtSignSigningAlgo;
}

/** A parsed AUTH frame; `signedBody` is the body prefix covered by the signature. */
export interface LegAuth extends LegAuthFields {
  version: number;
  signature: Uint8Array;
  signedBody: Uint8Array;
}

/** A malformed HELLO or AUTH. The relay closes the connection; a leg gives up. */
export class RelayWireError extends Error {
  override name = "RelayWireError";
}

/** Encodes HELLO. */
export function encodeRelayHello(challenge: Uint8Array, relayAtSign: string): Uint8Array {
  if (challenge.byteLength !== RELAY_CHALLENGE_BYTES) throw new RangeError(`Cannot encode HELLO: challenge must be ${RELAY_CHALLENGE_BYTES} bytes`);
  const name = shortString(relayAtSign, "relay @sign");
  const out = new Uint8Array(4 + 1 + RELAY_CHALLENGE_BYTES + 1 + name.byteLength);
  out.set(RELAY_MAGIC, 0);
  out[4] = RELAY_PROTOCOL_VERSION;
  out.set(challenge, 5);
  out[5 + RELAY_CHALLENGE_BYTES] = name.byteLength;
  out.set(name, 6 + RELAY_CHALLENGE_BYTES);
  return out;
}

/** Parses HELLO from the start of `buf`: null while incomplete, else the hello and the bytes it used. */
export function parseRelayHello(buf: Uint8Array): { hello: RelayHello; used: number } | null {
  const head = 4 + 1 + RELAY_CHALLENGE_BYTES + 1;
  for (let i = 0; i < Math.min(4, buf.byteLength); i++) {
    if (buf[i] !== RELAY_MAGIC[i]) throw new RelayWireError("Cannot read HELLO: not an Inlay relay");
  }
  if (buf.byteLength < head) return null;
  const used = head + buf[head - 1]!;
  if (buf.byteLength < used) return null;
  const version = buf[4]!;
  if (version !== RELAY_PROTOCOL_VERSION) throw new RelayWireError(`Cannot read HELLO: relay speaks version ${version}`);
  const challenge = buf.slice(5, 5 + RELAY_CHALLENGE_BYTES);
  return { hello: { version, challenge, relayAtSign: text(buf.subarray(head, used), "relay @sign") }, used };
}

/** The signed-body part of AUTH (everything before the signature length). */
export function encodeLegAuthBody(f: LegAuthFields): Uint8Array {
  const sid = shortString(f.sessionId, "session id");
  const me = shortString(f.atSign, "@sign");
  const peer = shortString(f.peerAtSign, "peer @sign");
  const out = new Uint8Array(1 + 1 + sid.byteLength + 1 + 1 + me.byteLength + 1 + peer.byteLength + 1);
  let o = 0;
  out[o++] = RELAY_PROTOCOL_VERSION;
  out[o++] = sid.byteLength;
  out.set(sid, o);
  o += sid.byteLength;
  out[o++] = f.side === "a" ? SIDE_A : SIDE_B;
  out[o++] = me.byteLength;
  out.set(me, o);
  o += me.byteLength;
  out[o++] = peer.byteLength;
  out.set(peer, o);
  o += peer.byteLength;
  out[o] = AT_SIGN_SIGNING_ALGOS[f.algo];
  return out;
}

/** The exact bytes a leg signs and the relay verifies. */
export function legAuthSignedBytes(signedBody: Uint8Array, challenge: Uint8Array, relayAtSign: string): Uint8Array {
  const relay = shortString(relayAtSign, "relay @sign");
  const out = new Uint8Array(SIGNING_CONTEXT.byteLength + challenge.byteLength + 1 + relay.byteLength + signedBody.byteLength);
  out.set(SIGNING_CONTEXT, 0);
  out.set(challenge, SIGNING_CONTEXT.byteLength);
  let o = SIGNING_CONTEXT.byteLength + challenge.byteLength;
  out[o++] = relay.byteLength;
  out.set(relay, o);
  out.set(signedBody, o + relay.byteLength);
  return out;
}

/** Encodes the whole AUTH frame (length prefix included) from its signed body and signature. */
export function encodeLegAuth(signedBody: Uint8Array, signature: Uint8Array): Uint8Array {
  const bodyBytes = signedBody.byteLength + 2 + signature.byteLength;
  if (bodyBytes > RELAY_AUTH_MAX_BYTES) throw new RangeError(`Cannot encode AUTH: ${bodyBytes} bytes exceeds ${RELAY_AUTH_MAX_BYTES}`);
  const out = new Uint8Array(4 + bodyBytes);
  const view = new DataView(out.buffer);
  view.setUint32(0, bodyBytes);
  out.set(signedBody, 4);
  view.setUint16(4 + signedBody.byteLength, signature.byteLength);
  out.set(signature, 6 + signedBody.byteLength);
  return out;
}

/** Whether `buf` starts with PROBE (a relay answers it instead of parsing AUTH). */
export function isRelayProbe(buf: Uint8Array): boolean {
  return buf.byteLength >= 4 && buf[0] === 0 && buf[1] === 0 && buf[2] === 0 && buf[3] === 0;
}

/**
 * Parses AUTH from the start of `buf`: null while incomplete, else the frame and the bytes it used.
 * Throws RelayWireError for anything malformed (the caller closes the connection).
 */
export function parseLegAuth(buf: Uint8Array): { auth: LegAuth; used: number } | null {
  if (buf.byteLength < 4) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const bodyBytes = view.getUint32(0);
  if (bodyBytes > RELAY_AUTH_MAX_BYTES) throw new RelayWireError(`Cannot read AUTH: ${bodyBytes} bytes exceeds ${RELAY_AUTH_MAX_BYTES}`);
  if (buf.byteLength < 4 + bodyBytes) return null;
  const body = buf.subarray(4, 4 + bodyBytes);
  let o = 0;
  const need = (n: number) => {
    if (o + n > body.byteLength) throw new RelayWireError("Cannot read AUTH: body is truncated");
  };
  const u8 = () => {
    need(1);
    return body[o++]!;
  };
  const str = (what: string) => {
    const n = u8();
    need(n);
    const s = text(body.subarray(o, o + n), what);
    o += n;
    return s;
  };
  const version = u8();
  if (version !== RELAY_PROTOCOL_VERSION) throw new RelayWireError(`Cannot read AUTH: unsupported version ${version}`);
  const sessionId = str("session id");
  if (!SESSION_ID_RE.test(sessionId)) throw new RelayWireError("Cannot read AUTH: malformed session id");
  const sideByte = u8();
  if (sideByte !== SIDE_A && sideByte !== SIDE_B) throw new RelayWireError(`Cannot read AUTH: unknown side ${sideByte}`);
  const atSign = str("@sign");
  const peerAtSign = str("peer @sign");
  const algo = signingAlgoFromCode(u8());
  if (!algo) throw new RelayWireError("Cannot read AUTH: unknown signature algorithm");
  const signedBody = body.slice(0, o);
  need(2);
  const sigBytes = (body[o]! << 8) | body[o + 1]!;
  o += 2;
  if (o + sigBytes !== body.byteLength) throw new RelayWireError("Cannot read AUTH: signature length does not match the frame");
  const signature = body.slice(o);
  const side: RelaySide = sideByte === SIDE_A ? "a" : "b";
  return { auth: { version, sessionId, side, atSign, peerAtSign, algo, signature, signedBody }, used: 4 + bodyBytes };
}

function shortString(value: string, what: string): Uint8Array {
  const bytes = encoder.encode(value);
  if (bytes.byteLength === 0 || bytes.byteLength > 255) throw new RangeError(`Cannot encode ${what}: must be 1 to 255 bytes`);
  return bytes;
}

function text(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new RelayWireError(`Cannot read ${what}: not UTF-8`);
  }
}
