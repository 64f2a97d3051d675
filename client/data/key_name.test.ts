import { describe, expect, test } from "bun:test";
import { AtUsageError } from "../errors.ts";
import { formatKey, parseKeyRef } from "./key_name.ts";

describe("parseKeyRef", () => {
  test("the three forms, owner defaulting to me", () => {
    expect(parseKeyRef("public:Phone.wavi", "@alice")).toEqual({ visibility: "public", name: "phone.wavi", owner: "@alice" });
    expect(parseKeyRef("@Bob:phone", "@alice")).toEqual({ visibility: "shared", name: "phone", owner: "@alice", sharedWith: "@bob" });
    expect(parseKeyRef("phone", "@alice")).toEqual({ visibility: "self", name: "phone", owner: "@alice" });
  });
  test("an explicit owner", () => {
    expect(parseKeyRef("public:loc@bob", "@alice")).toEqual({ visibility: "public", name: "loc", owner: "@bob" });
    expect(parseKeyRef("@alice:loc@bob", "@alice")).toEqual({ visibility: "shared", name: "loc", owner: "@bob", sharedWith: "@alice" });
    expect(parseKeyRef("@alice:loc@alice", "@alice")).toEqual({ visibility: "self", name: "loc", owner: "@alice", sharedWith: "@alice" });
  });
  test("formatKey gives the stored name", () => {
    for (const k of ["public:xy@alice", "@bob:xy@alice", "xy@alice", "@alice:xy@alice"]) expect(formatKey(parseKeyRef(k, "@alice"))).toBe(k);
  });
  test("bad names are usage errors", () => {
    for (const k of ["", "public:", "@bob", "a b", "x@", "k", "x".repeat(300)]) expect(() => parseKeyRef(k, "@alice")).toThrow(AtUsageError);
  });
});
