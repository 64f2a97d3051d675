import { beforeAll, describe, expect, test } from "bun:test";
import { generateRsaKeyPair, type KeyPairText } from "../../core/crypto/index.ts";
import { CONTROL_MESSAGE_MAX_AGE_MS, type ControlMessage, ControlMessageError, newSeenIds, openControl, sealControl } from "./control_message.ts";

let bob: KeyPairText;
let device: KeyPairText;
let other: KeyPairText;
beforeAll(async () => {
  [bob, device, other] = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair(), generateRsaKeyPair()]);
});

const msg: ControlMessage = { t: "request", sid: "0b1c2d3e-4f50-4617-8899-aabbccddeeff", device: "default", target: "127.0.0.1:22", relay: "relay.example:6464" };
const seal = (o: Partial<Parameters<typeof sealControl>[1]> = {}, m: ControlMessage = msg) =>
  sealControl(m, { from: "@bob", to: "@device", signingKey: bob.privateKey, recipientPublicKey: device.publicKey, ...o });
const openAs = (text: string, o: Partial<Parameters<typeof openControl>[1]> = {}) =>
  openControl(text, { me: "@device", from: "@bob", decryptionKey: device.privateKey, senderPublicKey: bob.publicKey, seen: newSeenIds(), ...o });

describe("control envelopes", () => {
  test("round trip: the recipient gets the message", () => {
    expect(openAs(seal())).toEqual(msg);
  });

  test("the envelope hides the message from the atServers (no plaintext field in it)", () => {
    expect(Buffer.from(seal(), "base64").toString()).not.toContain("127.0.0.1:22");
  });

  const refusals: [string, () => unknown, RegExp][] = [
    ["signed with another key", () => openAs(seal({ signingKey: other.privateKey })), /signature does not verify for @bob/],
    ["encrypted to another key", () => openAs(seal({ recipientPublicKey: other.publicKey })), /does not decrypt/],
    ["claiming another sender", () => openAs(seal({ from: "@mallory" })), /names @mallory → @device, but came from @bob/],
    ["addressed to someone else", () => openAs(seal({ to: "@other" })), /names @bob → @other/],
    ["too old", () => openAs(seal({ nowMs: Date.now() - CONTROL_MESSAGE_MAX_AGE_MS - 1000 })), /s old/],
    ["not an envelope", () => openAs("bm90IGpzb24="), /not a valid envelope/],
    ["an unknown message type", () => openAs(seal({}, { t: "nope" } as unknown as ControlMessage)), /not understood/],
    ["with a bad field", () => openAs(seal({}, { ...msg, device: 7 } as unknown as ControlMessage)), /not understood: Invalid input: expected string, received number$/],
  ];
  for (const [name, f, re] of refusals) {
    test(`refuses a message ${name}`, () => {
      expect(f).toThrow(ControlMessageError);
      expect(f).toThrow(re);
    });
  }

  test("refuses the same envelope twice", () => {
    const seen = newSeenIds();
    const text = seal();
    openAs(text, { seen });
    expect(() => openAs(text, { seen })).toThrow(/replayed/);
  });
});
