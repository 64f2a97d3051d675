import { describe, expect, test } from "bun:test";
import type { AuthState } from "../wire/index.ts";
import {
  alwaysSyncs,
  canRead,
  hasManageAccess,
  isCommittedKey,
  isNamespaceAuthorized,
  isProtectedKey,
  isReservedKey,
  lookupTarget,
  scanName,
  type NamespaceAccess,
  type NamespaceGrants,
} from "./index.ts";

const none: AuthState = { auth: "none" };
const owner: AuthState = { auth: "owner", atSign: "@alice" };
const bob: AuthState = { auth: "pol", atSign: "@bob" };

describe("isReservedKey() and isProtectedKey()", () => {
  test("partial matches count, as in the reference", () => {
    expect(isReservedKey("cached:public:publickey@bob")).toBe(true);
    expect(isReservedKey("public:publickey.wavi@alice")).toBe(false);
    expect(isReservedKey("@bob:shared_key.wavi@alice")).toBe(false);
  });
  const prot: [{ name: string; owner?: string }, boolean][] = [
    [{ name: "signing_publickey", owner: "@alice" }, true],
    [{ name: "signing_privatekey", owner: "@Alice" }, true],
    [{ name: "publickey", owner: "@alice" }, true],
    [{ name: "at_pkam_publickey" }, true],
    [{ name: "privatekey:at_pkam_publickey" }, true],
    [{ name: "publickey", owner: "@bob" }, false],
    [{ name: "phone", owner: "@alice" }, false],
    [{ name: "privatekey:at_secret" }, false],
  ];
  for (const [ref, want] of prot) test(`isProtectedKey(${JSON.stringify(ref)}) -> ${want}`, () => expect(isProtectedKey(ref, "@alice")).toBe(want));
});

describe("commit and sync rules", () => {
  const committed: [string, boolean][] = [
    ["phone.wavi@alice", true],
    ["@bob:phone@alice", true],
    ["public:x@alice", true],
    ["public:__x@alice", true],
    ["public:_x@alice", false],
    ["private:blocklist@alice", false],
    ["privatekey:at_pkam_publickey", false],
    ["local:x@alice", false],
    ["_x@alice", true],
  ];
  for (const [k, want] of committed) test(`isCommittedKey(${k}) -> ${want}`, () => expect(isCommittedKey(k)).toBe(want));
  const syncs: [string, boolean][] = [
    ["@bob:shared_key@alice", true],
    ["public:publickey@alice", true],
    ["public:signing_publickey@alice", true],
    ["public:nonamespace@alice", true],
    ["public:location.wavi@alice", false],
    ["phone.wavi@alice", false],
    ["shared_key.bob@alice", false],
  ];
  for (const [k, want] of syncs) test(`alwaysSyncs(${k}) -> ${want}`, () => expect(alwaysSyncs(k)).toBe(want));
});

describe("canRead()", () => {
  const cases: [AuthState, string, boolean][] = [
    [none, "public:location.wavi@alice", true],
    [none, "public:_session@alice", true],
    [none, "phone@alice", false],
    [none, "@bob:phone@alice", false],
    [owner, "phone@alice", true],
    [owner, "private:blocklist@alice", true],
    [owner, "privatekey:at_secret", false],
    [bob, "@bob:phone@alice", true],
    [bob, "@carol:phone@alice", false],
    [bob, "phone@alice", false],
    [bob, "public:x@alice", true],
  ];
  for (const [s, k, want] of cases) test(`${s.auth} ${k} -> ${want}`, () => expect(canRead(s, k)).toBe(want));
});

describe("lookupTarget() follows the §3.2 table", () => {
  test("unauthenticated reads the public key", () => {
    expect(lookupTarget(none, "@alice", "Location.Wavi", "@alice", false)).toEqual({ kind: "local", key: "public:location.wavi@alice" });
  });
  test("the owner reads its shared-with-self key, or another @sign's through the cache", () => {
    expect(lookupTarget(owner, "@alice", "phone", "@alice", false)).toEqual({ kind: "local", key: "@alice:phone@alice" });
    expect(lookupTarget(owner, "@alice", "phone", "@bob", false)).toEqual({
      kind: "remote",
      atSign: "@bob",
      name: "phone",
      cacheKey: "cached:@alice:phone@bob",
      authenticated: true,
    });
  });
  test("pol as @bob reads what alice shared with bob", () => {
    expect(lookupTarget(bob, "@alice", "phone", "@alice", false)).toEqual({ kind: "local", key: "@bob:phone@alice" });
  });
  test("plookup is owner-only and goes to the public copy", () => {
    expect(lookupTarget(owner, "@alice", "publickey", "@bob", true)).toEqual({
      kind: "remote",
      atSign: "@bob",
      name: "publickey",
      cacheKey: "cached:public:publickey@bob",
      authenticated: false,
    });
    expect(lookupTarget(owner, "@alice", "x", "@alice", true)).toEqual({ kind: "local", key: "public:x@alice" });
    expect(lookupTarget(none, "@alice", "x", "@bob", true)).toBeNull();
  });
});

describe("scanName()", () => {
  const cases: [AuthState, string, boolean, string | null][] = [
    [none, "public:location.wavi@alice", false, "location.wavi@alice"],
    [none, "public:_x@alice", true, null],
    [none, "phone@alice", false, null],
    [owner, "phone@alice", false, "phone@alice"],
    [owner, "@bob:_x@alice", false, "@bob:_x@alice"],
    [owner, "_x@alice", false, null],
    [owner, "_x@alice", true, "_x@alice"],
    [owner, "public:__x@alice", false, null],
    [owner, "public:__x@alice", true, "public:__x@alice"],
    [owner, "public:_x@alice", true, null],
    [owner, "private:blocklist@alice", true, null],
    [owner, "privatekey:at_secret", true, null],
    [bob, "@bob:phone@alice", false, "phone@alice"],
    [bob, "@carol:phone@alice", false, null],
  ];
  for (const [s, k, hidden, want] of cases) {
    test(`${s.auth} ${k} showHidden=${hidden} -> ${want}`, () => expect(scanName(s, k, hidden)).toBe(want));
  }
});

describe("namespace authorisation (§8.4)", () => {
  const cases: [NamespaceGrants | null, string, NamespaceAccess, boolean][] = [
    [null, "anything@alice", "rw", true],
    [{ wavi: "r" }, "phone.wavi@alice", "r", true],
    [{ wavi: "r" }, "phone.wavi@alice", "rw", false],
    [{ wavi: "rw" }, "@bob:phone.wavi@alice", "rw", true],
    [{ wavi: "rw" }, "phone.buzz@alice", "r", false],
    [{ "buzz.wavi": "rw" }, "phone.buzz.wavi@alice", "rw", true],
    [{ wavi: "rw" }, "phone.buzz.wavi@alice", "rw", true],
    [{ wavi: "rw" }, "nonamespace@alice", "r", false],
    [{ "*": "r" }, "nonamespace@alice", "r", true],
    [{ "*": "r" }, "phone.wavi@alice", "rw", false],
    [{ "*": "rw", wavi: "r" }, "phone.wavi@alice", "rw", true],
    [{ __manage: "rw" }, "e1.new.enrollments.__manage@alice", "r", false],
    [{ __manage: "rw", "*": "rw" }, "e1.new.enrollments.__manage@alice", "r", true],
    [{ wavi: "r" }, "public:publickey@alice", "rw", true],
    [{ wavi: "r" }, "@bob:shared_key@alice", "rw", true],
  ];
  for (const [g, k, need, want] of cases) {
    test(`${JSON.stringify(g)} ${k} ${need} -> ${want}`, () => expect(isNamespaceAuthorized(g, k, need)).toBe(want));
  }
  test("hasManageAccess()", () => {
    expect(hasManageAccess(null, "rw")).toBe(true);
    expect(hasManageAccess({ __manage: "r" }, "r")).toBe(true);
    expect(hasManageAccess({ __manage: "r" }, "rw")).toBe(false);
    expect(hasManageAccess({ "*": "rw" }, "r")).toBe(false);
  });
});
