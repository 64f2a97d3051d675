import { expect, test } from "bun:test";
import { authorizationHeader, challengeHeaders, decodeL402Identifier, encodeL402Identifier, L402_ID_BYTES, parseAuthorization, parseChallenge } from "./index.ts";

const PRE = "ab".repeat(32);

test("challengeHeaders() gives the LSAT, L402 macaroon= and L402 token= forms, legacy first", () => {
  const v = challengeHeaders("AgEx+/==", "lnbc1");
  expect(v).toEqual(['LSAT macaroon="AgEx+/==", invoice="lnbc1"', 'L402 macaroon="AgEx+/==", invoice="lnbc1"', 'L402 version="0", token="AgEx+/==", invoice="lnbc1"']);
  for (const h of v) expect(parseChallenge(h)).toMatchObject({ macaroon: "AgEx+/==", invoice: "lnbc1" });
  expect(parseChallenge('Bearer realm="x"')).toBeUndefined();
  expect(() => challengeHeaders('a"b', "lnbc1")).toThrow(RangeError);
});

const auth = [
  { name: "L402 with a hex preimage", value: `L402 AgEx:${PRE}`, ok: true },
  { name: "LSAT legacy scheme", value: `LSAT AgEx:${PRE}`, ok: true },
  { name: "lower-case scheme and upper-case hex", value: `l402 AgEx:${PRE.toUpperCase()}`, ok: true },
  { name: "old-spec base64 preimage", value: `L402 AgEx:${Uint8Array.fromHex(PRE).toBase64()}`, ok: true },
  { name: "root plus discharge", value: `L402 AgEx,AgEy:${PRE}`, ok: true, count: 2 },
  { name: "a short preimage", value: "L402 AgEx:abcd", ok: false },
  { name: "no colon", value: "L402 AgEx", ok: false },
  { name: "too many macaroons", value: `L402 a,b,c,d,e:${PRE}`, ok: false },
];
for (const c of auth) {
  test(`parseAuthorization() ${c.ok ? "accepts" : "refuses"} ${c.name}`, () => {
    const r = parseAuthorization(c.value);
    if (c.ok) {
      expect(typeof r).toBe("object");
      expect((r as { preimage: Uint8Array }).preimage.toHex()).toBe(PRE);
      expect((r as { macaroons: string[] }).macaroons).toHaveLength(c.count ?? 1);
    } else expect(typeof r).toBe("string");
  });
}

test("parseAuthorization() ignores other schemes and absent headers", () => {
  expect(parseAuthorization(undefined)).toBeUndefined();
  expect(parseAuthorization("Bearer abc")).toBeUndefined();
  expect(parseAuthorization(authorizationHeader("AgEx", PRE))).toMatchObject({ macaroons: ["AgEx"] });
});

test("L402 identifiers use Aperture's layout: version 0 (2 bytes), payment hash, token id", () => {
  const paymentHash = Uint8Array.from({ length: 32 }, (_, i) => i);
  const tokenId = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
  const bytes = encodeL402Identifier({ paymentHash, tokenId });
  expect(bytes.length).toBe(L402_ID_BYTES);
  expect([...bytes.subarray(0, 3)]).toEqual([0, 0, 0]);
  expect(decodeL402Identifier(bytes)).toEqual({ paymentHash, tokenId });
  const v1 = bytes.slice();
  v1[1] = 1;
  expect(decodeL402Identifier(v1)).toBe("unknown identifier version 1");
  expect(decodeL402Identifier(bytes.subarray(0, 40))).toMatch(/need 66/);
});
