import { beforeAll, describe, expect, test } from "bun:test";
import { generateEd25519KeyPair } from "../ed25519.ts";
import { type KeyPairText, generateRsaKeyPair } from "../rsa.ts";
import { signAsAtSign } from "./at_sign_signer.ts";
import { type PendingTunnel, type TunnelOffer, acceptTunnelOffer, createTunnelOffer, encodeTunnelOffer, offerSignedBytes, parseTunnelOffer, streamKeys } from "./handshake.ts";
import { TunnelError } from "./tunnel_error.ts";

let bob: KeyPairText; // RSA, like an atSDK encryption key pair
let device: KeyPairText; // Ed25519, our own keys
let other: KeyPairText;
beforeAll(async () => {
  [bob, device, other] = await Promise.all([generateRsaKeyPair(), generateEd25519KeyPair(), generateRsaKeyPair()]);
});

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const offers = (sessionId = "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f") => ({
  i: createTunnelOffer({ sessionId, role: "initiator", atSign: "@bob", peerAtSign: "@device", key: { algo: "rsa2048", privateKey: bob.privateKey } }),
  r: createTunnelOffer({ sessionId, role: "responder", atSign: "@device", peerAtSign: "@bob", key: { algo: "ed25519", privateKey: device.privateKey } }),
});

describe("tunnel key agreement", () => {
  test("both sides derive matching, distinct keys per direction and per stream", () => {
    const { i, r } = offers();
    const si = acceptTunnelOffer(i, parseTunnelOffer(encodeTunnelOffer(r.offer)), device.publicKey);
    const sr = acceptTunnelOffer(r, parseTunnelOffer(encodeTunnelOffer(i.offer)), bob.publicKey);
    expect(hex(si.secret)).toBe(hex(sr.secret));
    const ki0 = streamKeys(si, 0);
    const kr0 = streamKeys(sr, 0);
    expect(hex(ki0.sendKey)).toBe(hex(kr0.receiveKey));
    expect(hex(ki0.receiveKey)).toBe(hex(kr0.sendKey));
    expect(hex(ki0.sendKey)).not.toBe(hex(ki0.receiveKey));
    expect(hex(streamKeys(si, 1).sendKey)).not.toBe(hex(ki0.sendKey));
  });

  test("fresh ephemeral keys give a new secret for every session", () => {
    const a = offers();
    const b = offers();
    const s1 = acceptTunnelOffer(a.i, a.r.offer, device.publicKey);
    const s2 = acceptTunnelOffer(b.i, b.r.offer, device.publicKey);
    expect(hex(s1.secret)).not.toBe(hex(s2.secret));
  });

  const bad: { name: string; mutate(theirs: TunnelOffer, mine: PendingTunnel): { offer: TunnelOffer; key?: string } }[] = [
    { name: "a flipped signature bit", mutate: (o) => ({ offer: { ...o, signature: flip(o.signature) } }) },
    { name: "a swapped ephemeral key", mutate: (o) => ({ offer: { ...o, ephemeralPublicKey: flip(o.ephemeralPublicKey) } }) },
    { name: "the wrong peer key", mutate: (o) => ({ offer: o, key: other.publicKey }) },
    { name: "another session", mutate: (o) => ({ offer: { ...o, sessionId: "another-session-id" } }) },
    { name: "the same role", mutate: (o) => ({ offer: { ...o, role: "initiator" } }) },
    { name: "other @signs", mutate: (o) => ({ offer: { ...o, from: "@mallory" } }) },
    { name: "an offer replayed from another session", mutate: () => ({ offer: offers("a-previous-session-id").r.offer }) },
  ];
  for (const c of bad) {
    test(`refuses ${c.name}`, () => {
      const { i, r } = offers();
      const { offer, key } = c.mutate(r.offer, i);
      expect(() => acceptTunnelOffer(i, offer, key ?? device.publicKey)).toThrow(TunnelError);
    });
  }

  test("refuses a correctly signed low-order ephemeral key", () => {
    const { i, r } = offers();
    const zero = { ...r.offer, ephemeralPublicKey: new Uint8Array(32) };
    const signature = signAsAtSign({ algo: "ed25519", privateKey: device.privateKey }, offerSignedBytes(zero));
    expect(() => acceptTunnelOffer(i, { ...zero, signature }, device.publicKey)).toThrow(/low-order|valid X25519/);
  });

  test("parseTunnelOffer() refuses malformed text", () => {
    for (const text of ["", "{}", "[]", '{"v":2}', "x".repeat(5000), encodeTunnelOffer(offers().i.offer).replace('"eph":"', '"eph":"!')]) {
      expect(() => parseTunnelOffer(text)).toThrow(TunnelError);
    }
    expect(() => parseTunnelOffer('{"v":2}')).toThrow("Cannot parse tunnel offer: Invalid input: expected 1");
  });
});

function flip(b: Uint8Array): Uint8Array {
  const c = new Uint8Array(b);
  c[c.byteLength >> 1]! ^= 1;
  return c;
}
