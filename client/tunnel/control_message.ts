/**
 * Tunnel control messages (request, ack, ping, pong, probe, probed) and their envelope: signed by the sender, encrypted to
 * the recipient, with the atSDK suite (core/crypto), so the atServers that carry them learn only who talks to whom.
 *
 *   envelope text = base64(JSON {v:1, k: wrapped AES key, n: IV, c: AES-256-CTR ciphertext, s: signature})
 *   plaintext     = JSON {v:1, from, to, id, ts, msg}
 *   signature     = RSASSA-PKCS1-v1_5/SHA-256 over the plaintext bytes with the sender's encryption key
 *                   (the key behind `public:publickey@sender`, the same one the relay checks legs against)
 *
 * The signature is inside the encryption and covers `from`, `to`, a fresh id and a timestamp, so a message cannot
 * be re-addressed, and the receiver refuses one that is old (CONTROL_MESSAGE_MAX_AGE_MS) or already seen.
 */
import { parseHostPort } from "../../core/host_port.ts";
import { ENGLISH } from "../../core/zod_english.ts";
import { z } from "zod/mini";
import { RELAY_FLEET_MAX } from "./relay_address.ts";
import { atSdkSuite, fromBase64, toBase64, utf8, fromUtf8 } from "../../core/crypto/index.ts";

/** Envelope format version. */
export const CONTROL_ENVELOPE_VERSION = 1;
/** A message older (or further in the future) than this is refused: the window a replay could use. */
export const CONTROL_MESSAGE_MAX_AGE_MS = 60_000;
/** Longest envelope text accepted. */
export const CONTROL_ENVELOPE_MAX_CHARS = 16 * 1024;
/** Message ids remembered to refuse replays (older ones are past the age window anyway). */
export const CONTROL_SEEN_IDS_MAX = 10_000;

const hostPort = z.string().check(z.maxLength(300), z.refine((t) => parseHostPort(t) !== null, "expected HOST:PORT"));
const sessionId = z.string().check(z.regex(/^[A-Za-z0-9-]{8,64}$/));
const upTo = (chars: number) => z.string().check(z.maxLength(chars));

/** Every control message, by `t`. */
export const controlMessageSchema = z.discriminatedUnion("t", [
  /** Requester → device: open a tunnel session to `target` through the relay at `relay`. */
  z.strictObject({ t: z.literal("request"), sid: sessionId, device: upTo(64), target: hostPort, relay: hostPort, relayAtSign: z.optional(upTo(255)) }),
  /**
   * Device → requester: the request is refused, with the reason (success needs no ack: the session leg pairs);
   * `relay`: the device could not join the relay (the requester tries the next of the fleet).
   */
  z.strictObject({ t: z.literal("ack"), sid: sessionId, ok: z.boolean(), reason: z.optional(upTo(500)), relay: z.optional(z.boolean()) }),
  /** Requester → device: probe these relays of a fleet (client/tunnel/relay_choice.ts). */
  z.strictObject({ t: z.literal("probe"), pid: sessionId, device: upTo(64), relays: z.array(hostPort).check(z.maxLength(RELAY_FLEET_MAX)), relayAtSign: z.optional(upTo(255)) }),
  /** Device → requester: per relay of the probe (same order), the round trip in ms, "draining" or "down". */
  z.strictObject({
    t: z.literal("probed"),
    pid: sessionId,
    results: z.array(z.union([z.number().check(z.minimum(0)), z.literal("draining"), z.literal("down")])).check(z.maxLength(RELAY_FLEET_MAX)),
  }),
  /** Requester → device: who are you, what can you do. */
  z.strictObject({ t: z.literal("ping"), pid: sessionId, device: upTo(64) }),
  /** Device → requester. */
  z.strictObject({
    t: z.literal("pong"),
    pid: sessionId,
    name: upTo(64),
    version: upTo(32),
    features: z.array(upTo(64)).check(z.maxLength(64)),
    permits: z.array(upTo(300)).check(z.maxLength(256)),
  }),
]);
/** A control message. */
export type ControlMessage = z.infer<typeof controlMessageSchema>;

const envelopeSchema = z.strictObject({ v: z.literal(CONTROL_ENVELOPE_VERSION), k: upTo(2048), n: upTo(64), c: upTo(CONTROL_ENVELOPE_MAX_CHARS), s: upTo(2048) });
const plaintextSchema = z.strictObject({ v: z.literal(CONTROL_ENVELOPE_VERSION), from: z.string(), to: z.string(), id: upTo(64), ts: z.number(), msg: z.unknown() });

/** Why an envelope was refused (sent back to the requester as the ack reason when possible). */
export class ControlMessageError extends Error {
  override name = "ControlMessageError";
}

/**
 * Seals `msg` from `from` to `to`. `signingKey` is the sender's encryption private key, `recipientPublicKey` the
 * recipient's `public:publickey`.
 * @example const text = sealControl({ t: "ping", pid, device: "default" }, { from: "@bob", to: "@device", signingKey, recipientPublicKey });
 */
export function sealControl(msg: ControlMessage, p: { from: string; to: string; signingKey: string; recipientPublicKey: string; nowMs?: number }): string {
  const plain = utf8(JSON.stringify({ v: CONTROL_ENVELOPE_VERSION, from: p.from, to: p.to, id: crypto.randomUUID(), ts: p.nowMs ?? Date.now(), msg }));
  const key = atSdkSuite.generateSymmetricKey();
  const sealed = atSdkSuite.encrypt(key, plain);
  const envelope = { v: CONTROL_ENVELOPE_VERSION, k: atSdkSuite.wrapKey(key, p.recipientPublicKey), n: sealed.nonce ?? "", c: sealed.ciphertext, s: atSdkSuite.sign(p.signingKey, plain) };
  return toBase64(utf8(JSON.stringify(envelope)));
}

/** Remembers recent message ids (bounded, oldest forgotten first). */
export interface SeenIds {
  ids: Set<string>;
  max: number;
}

/** A fresh replay memory. */
export function newSeenIds(max = CONTROL_SEEN_IDS_MAX): SeenIds {
  return { ids: new Set(), max };
}

/**
 * Opens an envelope addressed to `me`, sent (per the atServer) by `from`. Throws ControlMessageError naming what
 * is wrong: undecryptable, bad signature, other sender or recipient, too old, replayed, or not a control message.
 */
export function openControl(text: string, p: { me: string; from: string; decryptionKey: string; senderPublicKey: string; seen: SeenIds; nowMs?: number }): ControlMessage {
  if (text.length > CONTROL_ENVELOPE_MAX_CHARS * 2) throw new ControlMessageError("control message is too long");
  let plain: Uint8Array;
  let env: z.infer<typeof envelopeSchema>;
  try {
    env = envelopeSchema.parse(JSON.parse(fromUtf8(fromBase64(text, "envelope"), "envelope")));
  } catch {
    throw new ControlMessageError("control message is not a valid envelope");
  }
  try {
    plain = atSdkSuite.decrypt(atSdkSuite.unwrapKey(env.k, p.decryptionKey), { ciphertext: env.c, nonce: env.n });
  } catch {
    throw new ControlMessageError("control message does not decrypt with my key");
  }
  if (!atSdkSuite.verify(p.senderPublicKey, plain, env.s)) throw new ControlMessageError(`control message signature does not verify for ${p.from}`);
  let body: z.infer<typeof plaintextSchema>;
  try {
    body = plaintextSchema.parse(JSON.parse(fromUtf8(plain, "control message")));
  } catch {
    throw new ControlMessageError("control message body is malformed");
  }
  if (body.from !== p.from || body.to !== p.me) throw new ControlMessageError(`control message names ${body.from} → ${body.to}, but came from ${p.from} to ${p.me}`);
  const now = p.nowMs ?? Date.now();
  if (Math.abs(now - body.ts) > CONTROL_MESSAGE_MAX_AGE_MS) throw new ControlMessageError(`control message is ${Math.round((now - body.ts) / 1000)} s old (limit ${CONTROL_MESSAGE_MAX_AGE_MS / 1000} s)`);
  if (p.seen.ids.has(body.id)) throw new ControlMessageError("control message was replayed");
  if (p.seen.ids.size >= p.seen.max) p.seen.ids.delete(p.seen.ids.values().next().value!);
  p.seen.ids.add(body.id);
  const msg = controlMessageSchema.safeParse(body.msg, ENGLISH);
  if (!msg.success) throw new ControlMessageError(`control message is not understood: ${msg.error.issues[0]?.message ?? "invalid"}`);
  return msg.data;
}
