import { describe, expect, test } from "bun:test";
import { createRequire } from "node:module";
import {
  addFirstPartyCaveat,
  addThirdPartyCaveat,
  bindDischarge,
  decodeBase64Tolerant,
  decodeBinary,
  decodeBinaryAll,
  decodeJson,
  decodeMacaroonText,
  encodeBase64Std,
  encodeBase64Url,
  encodeBinaryV1,
  encodeBinaryV2,
  encodeJsonV2,
  MacaroonError,
  MAX_CAVEATS,
  MAX_FIELD_BYTES,
  mintMacaroon,
  verifyMacaroon,
  type Macaroon,
} from "./index.ts";

/** The slice of the npm `macaroon` package (the test oracle) that these tests use. */
interface JsMacaroon {
  identifier: Uint8Array;
  signature: Uint8Array;
  caveats: { identifier: Uint8Array; location?: string }[];
  addFirstPartyCaveat(cond: string | Uint8Array): void;
  addThirdPartyCaveat(rootKey: Uint8Array, caveatId: string | Uint8Array, location?: string): void;
  bindToRoot(sig: Uint8Array): void;
  verify(rootKey: Uint8Array, check: (cond: string) => string | null, discharges?: JsMacaroon[]): void;
  exportBinary(): Uint8Array;
  exportJSON(): object;
}
interface JsMacaroonApi {
  newMacaroon(opts: { identifier: string | Uint8Array; location?: string; rootKey: string | Uint8Array; version?: number }): JsMacaroon;
  importMacaroon(obj: string | Uint8Array | object): JsMacaroon;
  importMacaroons(obj: string | Uint8Array | object): JsMacaroon[];
}
// The package is CommonJS without types; createRequire loads it the same way on Bun and Deno.
const js: JsMacaroonApi = createRequire(import.meta.url)("macaroon");

const te = new TextEncoder();
const KEY = te.encode("this is the key");
const allow = () => null;
const only = (ok: string[]) => (cond: string) => (ok.includes(cond) ? null : "not allowed");

function libmacaroonsExample(caveats: string[]): Macaroon {
  let m = mintMacaroon({ rootKey: KEY, identifier: te.encode("keyid"), location: "http://example.org/" });
  for (const c of caveats) m = addFirstPartyCaveat(m, c);
  return m;
}

describe("known answers (libmacaroons v2 vectors, as shipped with the npm macaroon tests)", () => {
  const cases = [
    { caveats: [], b64: "AgETaHR0cDovL2V4YW1wbGUub3JnLwIFa2V5aWQAAAYgfN7nklEcW8b1KEhYBd_psk54XijiqZMB-dcRxgnjjvc" },
    { caveats: ["account = 3735928559"], b64: "AgETaHR0cDovL2V4YW1wbGUub3JnLwIFa2V5aWQAAhRhY2NvdW50ID0gMzczNTkyODU1OQAABiD1SAf23G7fiL8PcwazgiVio2JTPb9zObphdl2kvSWdhw" },
    {
      caveats: ["account = 3735928559", "user = alice"],
      b64: "AgETaHR0cDovL2V4YW1wbGUub3JnLwIFa2V5aWQAAhRhY2NvdW50ID0gMzczNTkyODU1OQACDHVzZXIgPSBhbGljZQAABiBL6WfNHqDGsmuvakqU7psFsViG2guoXoxCqTyNDhJe_A",
    },
  ];
  for (const c of cases) {
    test(`encodeBinaryV2() matches the vector with ${c.caveats.length} caveats`, () => {
      expect(encodeBase64Url(encodeBinaryV2(libmacaroonsExample(c.caveats)))).toBe(c.b64);
    });
    test(`decodeBinary() reads and verifies the vector with ${c.caveats.length} caveats`, () => {
      const m = decodeBinary(decodeBase64Tolerant(c.b64, "vector"));
      expect(m.location).toBe("http://example.org/");
      expect(verifyMacaroon(m, KEY, only(c.caveats))).toEqual({ ok: true });
    });
  }

  test("v1 binary of the no-caveat example has the libmacaroons v1 packets and verifies", () => {
    const v1 = "MDAyMWxvY2F0aW9uIGh0dHA6Ly9leGFtcGxlLm9yZy8KMDAxNWlkZW50aWZpZXIga2V5aWQKMDAyZnNpZ25hdHVyZSB83ueSURxbxvUoSFgF3-myTnheKOKpkwH51xHGCeOO9wo";
    const bytes = encodeBinaryV1(libmacaroonsExample([]));
    expect(new TextDecoder().decode(bytes.subarray(0, 54))).toBe("0021location http://example.org/\n0015identifier keyid\n");
    expect(encodeBase64Url(bytes)).toBe(v1);
    const m = decodeBinary(decodeBase64Tolerant(v1, "vector"));
    expect(m.version).toBe(1);
    expect(verifyMacaroon(m, KEY, allow)).toEqual({ ok: true });
  });
});

describe("interop with the npm macaroon package", () => {
  const rootKey = crypto.getRandomValues(new Uint8Array(32));
  const binaryId = Uint8Array.from([0, 0xff, 0xfe, 1, 2, 3]);
  const conds = ["services = api:0", "expires = 1767225600000", "path_prefix = /v1"];

  for (const identifier of [te.encode("token-1"), binaryId]) {
    const label = identifier === binaryId ? "binary id" : "text id";
    const ours = () => {
      let m = mintMacaroon({ rootKey, identifier, location: "https://api.example/<x>&" });
      for (const c of conds) m = addFirstPartyCaveat(m, c);
      return m;
    };

    test(`we mint (${label}) -> it decodes binary v2, verifies, and re-encodes the same bytes`, () => {
      const bytes = encodeBinaryV2(ours());
      const theirs = js.importMacaroon(bytes);
      expect(() => theirs.verify(rootKey, only(conds))).not.toThrow();
      expect(() => theirs.verify(rootKey, only(conds.slice(1)))).toThrow();
      expect(theirs.exportBinary()).toEqual(bytes);
    });

    test(`we mint (${label}) -> it imports JSON v2 and verifies`, () => {
      const theirs = js.importMacaroon(JSON.parse(encodeJsonV2(ours())));
      expect(() => theirs.verify(rootKey, only(conds))).not.toThrow();
      expect(theirs.exportBinary()).toEqual(encodeBinaryV2(ours()));
    });

    test(`it mints (${label}) -> we decode binary v2 and JSON v2 and verify`, () => {
      const theirs = js.newMacaroon({ rootKey, identifier, location: "https://api.example" });
      for (const c of conds) theirs.addFirstPartyCaveat(c);
      const fromBinary = decodeBinary(theirs.exportBinary());
      const fromJson = decodeJson(JSON.stringify(theirs.exportJSON()));
      for (const m of [fromBinary, fromJson]) {
        expect(verifyMacaroon(m, rootKey, only(conds))).toEqual({ ok: true });
        expect(m.signature).toEqual(theirs.signature);
        expect(encodeBinaryV2(m)).toEqual(theirs.exportBinary());
      }
    });
  }

  test("it mints a v1 macaroon -> we read its v1 JSON and verify", () => {
    const theirs = js.newMacaroon({ rootKey, identifier: "v1-id", location: "loc", version: 1 });
    theirs.addFirstPartyCaveat("a = 1");
    const m = decodeJson(JSON.stringify(theirs.exportJSON()));
    expect(m.version).toBe(1);
    expect(verifyMacaroon(m, rootKey, only(["a = 1"]))).toEqual({ ok: true });
  });

  test("third-party caveat added by us -> it verifies root plus our bound discharge", () => {
    const tpKey = crypto.getRandomValues(new Uint8Array(32));
    const root = addThirdPartyCaveat(addFirstPartyCaveat(mintMacaroon({ rootKey, identifier: te.encode("root") }), "a = 1"), tpKey, te.encode("tp-1"), "https://auth.example");
    const discharge = bindDischarge(root.signature, addFirstPartyCaveat(mintMacaroon({ rootKey: tpKey, identifier: te.encode("tp-1") }), "d = 2"));
    const r = js.importMacaroon(encodeBinaryV2(root));
    const d = js.importMacaroon(JSON.parse(encodeJsonV2(discharge)));
    expect(() => r.verify(rootKey, only(["a = 1", "d = 2"]), [d])).not.toThrow();
    expect(() => r.verify(rootKey, only(["a = 1"]), [d])).toThrow();
    expect(verifyMacaroon(root, rootKey, only(["a = 1", "d = 2"]), [discharge])).toEqual({ ok: true });
    const parsed = decodeBinaryAll(Uint8Array.from([...encodeBinaryV2(root), ...encodeBinaryV2(discharge)]), 4);
    expect(verifyMacaroon(parsed[0]!, rootKey, allow, parsed.slice(1))).toEqual({ ok: true });
  });

  test("third-party caveat added by it -> we verify root plus its bound discharge", () => {
    const tpKey = crypto.getRandomValues(new Uint8Array(32));
    const root = js.newMacaroon({ rootKey, identifier: "root" });
    root.addThirdPartyCaveat(tpKey, "tp-2", "https://auth.example");
    const discharge = js.newMacaroon({ rootKey: tpKey, identifier: "tp-2" });
    discharge.bindToRoot(root.signature);
    const r = decodeBinary(root.exportBinary());
    const d = decodeJson(JSON.stringify(discharge.exportJSON()));
    expect(verifyMacaroon(r, rootKey, allow, [d])).toEqual({ ok: true });
    expect(verifyMacaroon(r, rootKey, allow, [])).toMatchObject({ ok: false, reason: "discharge_missing" });
    const unbound = decodeBinary(js.newMacaroon({ rootKey: tpKey, identifier: "tp-2" }).exportBinary());
    expect(verifyMacaroon(r, rootKey, allow, [unbound])).toMatchObject({ ok: false, reason: "signature_mismatch" });
  });
});

describe("tampering and refusals", () => {
  const rootKey = crypto.getRandomValues(new Uint8Array(32));
  const m = addFirstPartyCaveat(addFirstPartyCaveat(mintMacaroon({ rootKey, identifier: te.encode("id-1") }), "a = 1"), "b = 2");

  test("every single-byte change of the binary form fails to decode or to verify", () => {
    const bytes = encodeBinaryV2(m);
    for (let i = 0; i < bytes.length; i++) {
      const t = bytes.slice();
      t[i]! ^= 0x01;
      let decoded: Macaroon | undefined;
      try {
        decoded = decodeBinary(t);
      } catch (e) {
        expect(e).toBeInstanceOf(MacaroonError);
        continue;
      }
      expect(verifyMacaroon(decoded, rootKey, allow).ok).toBe(false);
    }
  });

  test("dropping a caveat, changing its text or using another root key is refused", () => {
    const dropped: Macaroon = { ...m, caveats: m.caveats.slice(0, 1) };
    expect(verifyMacaroon(dropped, rootKey, allow)).toMatchObject({ ok: false, reason: "signature_mismatch" });
    const changed: Macaroon = { ...m, caveats: [m.caveats[0]!, { id: te.encode("b = 3") }] };
    expect(verifyMacaroon(changed, rootKey, allow)).toMatchObject({ ok: false, reason: "signature_mismatch" });
    expect(verifyMacaroon(m, new Uint8Array(32), allow)).toMatchObject({ ok: false, reason: "signature_mismatch" });
  });

  test("a failing caveat is reported with its condition and the checker's reason", () => {
    expect(verifyMacaroon(m, rootKey, (c) => (c === "b = 2" ? "b must be 1" : null))).toEqual({
      ok: false,
      reason: "caveat_failed",
      detail: 'caveat "b = 2" refused: b must be 1',
      condition: "b = 2",
      checkerReason: "b must be 1",
    });
  });

  test("the checker is not called when the signature is wrong", () => {
    let calls = 0;
    verifyMacaroon({ ...m, signature: new Uint8Array(32) }, rootKey, () => (calls++, null));
    expect(calls).toBe(0);
  });

  test("each caveat gets a distinct chain key shared by every token carrying that prefix", () => {
    const keys: string[] = [];
    verifyMacaroon(m, rootKey, (_c, ctx) => (keys.push(ctx.chainKey.toHex()), null));
    const child = addFirstPartyCaveat(m, "c = 3");
    const childKeys: string[] = [];
    verifyMacaroon(child, rootKey, (_c, ctx) => (childKeys.push(ctx.chainKey.toHex()), null));
    expect(new Set(keys).size).toBe(2);
    expect(childKeys.slice(0, 2)).toEqual(keys);
  });

  test("limits: caveat count and field size are enforced when minting and decoding", () => {
    let big = mintMacaroon({ rootKey, identifier: te.encode("x") });
    for (let i = 0; i < MAX_CAVEATS; i++) big = addFirstPartyCaveat(big, `n = ${i}`);
    expect(() => addFirstPartyCaveat(big, "one = more")).toThrow(MacaroonError);
    const over: Macaroon = { ...big, caveats: [...big.caveats, { id: te.encode("x") }] };
    expect(() => decodeBinary(encodeBinaryV2(over))).toThrow(/more than/);
    expect(() => mintMacaroon({ rootKey, identifier: new Uint8Array(MAX_FIELD_BYTES + 1) })).toThrow(MacaroonError);
  });

  test("trailing bytes, truncation and unknown versions are refused", () => {
    const bytes = encodeBinaryV2(m);
    expect(() => decodeBinary(Uint8Array.from([...bytes, 0]))).toThrow(/after its end/);
    expect(() => decodeBinary(bytes.subarray(0, bytes.length - 1))).toThrow(MacaroonError);
    expect(() => decodeBinary(Uint8Array.of(3, 0))).toThrow(/unknown format/);
  });
});

describe("text forms", () => {
  const rootKey = crypto.getRandomValues(new Uint8Array(32));
  const m = addFirstPartyCaveat(mintMacaroon({ rootKey, identifier: te.encode("id"), location: "a<b&c>" }), "x = 1");

  test("base64 is read in standard and URL-safe alphabets, padded or not, but not mixed", () => {
    const bytes = Uint8Array.from({ length: 64 }, (_, i) => i * 4 + 3);
    const std = encodeBase64Std(bytes);
    expect(std).toMatch(/[+/]/);
    for (const t of [std, std.replace(/=+$/, ""), encodeBase64Url(bytes), bytes.toBase64({ alphabet: "base64url" })]) {
      expect(decodeBase64Tolerant(t, "t")).toEqual(bytes);
    }
    expect(() => decodeBase64Tolerant(std.replace("/", "_").replace("+", "+"), "t")).toThrow(/mixes/);
    expect(() => decodeBase64Tolerant("a b", "t")).toThrow(MacaroonError);
  });

  test("JSON v2 escapes like Go's encoding/json and keeps Go's key order", () => {
    const text = encodeJsonV2(m);
    expect(text.startsWith('{"c":[{"i":"x = 1"}],"l":"a\\u003cb\\u0026c\\u003e","i":"id",')).toBe(true);
    expect(text).toMatch(/"s64":"[A-Za-z0-9_-]{43}"}$/);
    expect(decodeJson(text)).toEqual(m);
  });

  test("decodeMacaroonText() takes base64 binary, JSON, and a JSON string of base64", () => {
    const b64 = encodeBase64Std(encodeBinaryV2(m));
    for (const t of [b64, encodeJsonV2(m), JSON.stringify(b64)]) {
      expect(verifyMacaroon(decodeMacaroonText(t), rootKey, only(["x = 1"]))).toEqual({ ok: true });
    }
  });

  test("ambiguous or mixed JSON encodings are refused", () => {
    expect(() => decodeJson('{"i":"a","i64":"YQ","s64":"' + "A".repeat(43) + '"}')).toThrow(/more than one/);
    expect(() => decodeJson('{"i":"a","signature":"00"}')).toThrow(/mixes/);
    expect(() => decodeJson("[1]")).toThrow(MacaroonError);
    expect(() => decodeJson('{"i":7,"s64":"' + "A".repeat(43) + '"}')).toThrow("Cannot decode JSON macaroon: ✖ Invalid input: expected string, received number\n  → at i");
  });
});
