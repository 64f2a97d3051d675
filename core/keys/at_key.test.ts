import { describe, expect, test } from "bun:test";
import { AtProtocolError } from "../wire/index.ts";
import {
  checkKeyLength,
  checkUpdatableKey,
  formatAtKey,
  keyType,
  normalizeKey,
  parseAtKey,
  type AtKey,
  type KeyType,
} from "./at_key.ts";

const base = { cached: false, reserved: false, hidden: false };

const PARSED: [string, AtKey][] = [
  ["public:location.wavi@alice", { ...base, visibility: "public", name: "location.wavi", namespace: "wavi", owner: "@alice" }],
  ["phone.wavi@alice", { ...base, visibility: "self", name: "phone.wavi", namespace: "wavi", owner: "@alice" }],
  ["@bob:phone.wavi@alice", { ...base, visibility: "shared", sharedWith: "@bob", name: "phone.wavi", namespace: "wavi", owner: "@alice" }],
  ["@alice:phone@alice", { ...base, visibility: "self", sharedWith: "@alice", name: "phone", owner: "@alice" }],
  ["private:blocklist@alice", { ...base, reserved: true, visibility: "private", name: "blocklist", owner: "@alice" }],
  ["private:_abc-1@alice", { ...base, hidden: true, visibility: "private", name: "_abc-1", owner: "@alice" }],
  ["_x@alice", { ...base, hidden: true, visibility: "self", name: "_x", owner: "@alice" }],
  ["public:__x@alice", { ...base, hidden: true, visibility: "public", name: "__x", owner: "@alice" }],
  ["cached:public:publickey@bob", { ...base, cached: true, reserved: true, visibility: "public", name: "publickey", owner: "@bob" }],
  ["cached:@alice:phone@bob", { ...base, cached: true, visibility: "shared", sharedWith: "@alice", name: "phone", owner: "@bob" }],
  ["local:draft.app@alice", { ...base, visibility: "local", name: "draft.app", namespace: "app", owner: "@alice" }],
  ["privatekey:at_secret", { ...base, reserved: true, visibility: "privatekey", name: "at_secret" }],
  ["shared_key.bob@alice", { ...base, visibility: "self", name: "shared_key.bob", namespace: "bob", owner: "@alice" }],
  ["phone.wavi@😀x", { ...base, visibility: "self", name: "phone.wavi", namespace: "wavi", owner: "@😀x" }],
  ["it's*\"q\".ns@alice", { ...base, visibility: "self", name: "it's*\"q\".ns", namespace: "ns", owner: "@alice" }],
];

describe("parseAtKey() and formatAtKey()", () => {
  for (const [key, want] of PARSED) {
    test(key, () => {
      expect(parseAtKey(key)).toEqual(want);
      expect(formatAtKey(want)).toBe(key);
    });
  }
  const invalid = ["phone", "phone@", "@alice", "a:b@alice", "phone@al.ice", "ph one@alice", "public:@bob:x@alice", "phone@@alice", "@@bob:x@alice", "privatekey:", "@bob:phone", `x@${"a".repeat(56)}`];
  for (const key of invalid) test(`rejects ${JSON.stringify(key)}`, () => expect(parseAtKey(key)).toBeNull());
});

describe("keyType() follows the reference order", () => {
  const cases: [string, KeyType][] = [
    ["public:publickey@alice", "reserved"],
    ["public:signing_publickey@alice", "reserved"],
    ["@alice:signing_privatekey@alice", "reserved"],
    ["@bob:shared_key@alice", "reserved"],
    ["cached:@alice:shared_key@bob", "reserved"],
    ["cached:public:publickey@bob", "reserved"],
    ["privatekey:at_pkam_publickey", "reserved"],
    ["privatekey:at_secret_deleted", "reserved"],
    ["private:blocklist@alice", "reserved"],
    ["configkey", "reserved"],
    ["public:location.wavi@alice", "public"],
    ["private:_session@alice", "private"],
    ["phone.wavi@alice", "self"],
    ["@alice:phone@alice", "self"],
    ["@bob:phone@alice", "shared"],
    ["cached:public:x@bob", "cachedPublic"],
    ["cached:@alice:phone@bob", "cachedShared"],
    ["local:x@alice", "local"],
    ["privatekey:something_else", "invalid"],
    ["cached:x@bob", "invalid"],
    ["nonsense", "invalid"],
  ];
  for (const [key, want] of cases) test(`${key} -> ${want}`, () => expect(keyType(key)).toBe(want));
});

test("normalizeKey() trims, removes spaces and lower-cases", () => {
  expect(normalizeKey("  @Bob:Phone Number.Wavi@Alice\r")).toBe("@bob:phonenumber.wavi@alice");
});

describe("length limits", () => {
  test("248 characters, or 255 with cached:", () => {
    const name = (n: number) => "k".repeat(n - "@alice".length) + "@alice";
    expect(() => checkKeyLength(name(248))).not.toThrow();
    expect(() => checkKeyLength(name(249))).toThrow(AtProtocolError);
    expect(() => checkKeyLength("cached:" + name(248))).not.toThrow();
    expect(() => checkKeyLength("cached:" + name(249))).toThrow(AtProtocolError);
  });
});

describe("checkUpdatableKey()", () => {
  const ok: [string, string][] = [
    ["Phone.Wavi@Alice", "phone.wavi@alice"],
    ["public:publickey@alice", "public:publickey@alice"],
    ["@bob:shared_key@alice", "@bob:shared_key@alice"],
    ["privatekey:at_pkam_publickey", "privatekey:at_pkam_publickey"],
  ];
  for (const [raw, want] of ok) test(`accepts ${raw}`, () => expect(checkUpdatableKey(raw, "@alice")).toBe(want));
  const bad = ["private:x@alice", "cached:public:x@bob", "local:x@alice", "x@bob", "privatekey:foo", "nonsense", "k".repeat(249) + "@alice"];
  for (const raw of bad) {
    test(`refuses ${raw.slice(0, 40)} with AT0016`, () => {
      let err: unknown;
      try {
        checkUpdatableKey(raw, "@alice");
      } catch (e) {
        err = e;
      }
      expect((err as AtProtocolError).code).toBe("AT0016");
    });
  }
});
