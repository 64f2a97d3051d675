import { describe, expect, test } from "bun:test";
import {
  RELAY_AUTH_MAX_BYTES,
  RELAY_CHALLENGE_BYTES,
  RelayWireError,
  encodeLegAuth,
  encodeLegAuthBody,
  encodeRelayHello,
  legAuthSignedBytes,
  parseLegAuth,
  parseRelayHello,
} from "./wire.ts";

const challenge = Uint8Array.from({ length: RELAY_CHALLENGE_BYTES }, (_, i) => i);
const fields = { sessionId: "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f.3", side: "b", atSign: "@device", peerAtSign: "@bob", algo: "ed25519" } as const;
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("relay wire", () => {
  test("HELLO round-trips and waits for more bytes while incomplete", () => {
    const hello = encodeRelayHello(challenge, "@relay");
    for (let n = 0; n < hello.byteLength; n++) expect(parseRelayHello(hello.subarray(0, n))).toBeNull();
    const r = parseRelayHello(hello)!;
    expect(r.used).toBe(hello.byteLength);
    expect(r.hello.relayAtSign).toBe("@relay");
    expect(hex(r.hello.challenge)).toBe(hex(challenge));
  });

  test("AUTH round-trips; the signed bytes cover challenge, relay and every field", () => {
    const body = encodeLegAuthBody(fields);
    const frame = encodeLegAuth(body, new Uint8Array(64).fill(7));
    for (let n = 0; n < frame.byteLength; n++) expect(parseLegAuth(frame.subarray(0, n))).toBeNull();
    const { auth, used } = parseLegAuth(frame)!;
    expect(used).toBe(frame.byteLength);
    expect({ ...auth, signature: undefined, signedBody: undefined }).toEqual({ ...fields, version: 1, signature: undefined, signedBody: undefined });
    expect(hex(auth.signedBody)).toBe(hex(body));
    const signed = legAuthSignedBytes(body, challenge, "@relay");
    expect(hex(signed)).toContain(hex(challenge) + "06" + hex(new TextEncoder().encode("@relay")) + hex(body));
    expect(hex(legAuthSignedBytes(body, challenge, "@other"))).not.toBe(hex(signed));
  });

  const valid = encodeLegAuth(encodeLegAuthBody(fields), new Uint8Array(64));
  const patch = (at: number, value: number) => {
    const b = new Uint8Array(valid);
    b[at] = value;
    return b;
  };
  const cases: [string, Uint8Array][] = [
    ["a length over the limit", Uint8Array.of(0, 0, 0x40, 0)],
    ["an unknown version", patch(4, 9)],
    ["a malformed session id", encodeLegAuth(encodeLegAuthBody({ ...fields, sessionId: "bad id!" }), new Uint8Array(1))],
    ["an unknown side", patch(4 + 2 + fields.sessionId.length, 0x63)],
    ["an unknown algorithm", patch(4 + 2 + fields.sessionId.length + 1 + 1 + 7 + 1 + 4, 9)],
    ["a signature length that disagrees with the frame", patch(valid.byteLength - 65, 0xff)],
  ];
  for (const [name, bytes] of cases) {
    test(`parseLegAuth() rejects ${name}`, () => {
      expect(() => parseLegAuth(bytes)).toThrow(RelayWireError);
    });
  }

  test("parseRelayHello() rejects a service that is not a relay", () => {
    expect(() => parseRelayHello(new TextEncoder().encode("@"))).toThrow(RelayWireError);
  });

  test("encodeLegAuth() refuses a frame over the limit", () => {
    expect(() => encodeLegAuth(encodeLegAuthBody(fields), new Uint8Array(RELAY_AUTH_MAX_BYTES))).toThrow(RangeError);
  });
});
