import { describe, expect, test } from "bun:test";
import { isPermitted, parsePermit, permitText } from "./permits.ts";

describe("permits", () => {
  const rules = ["127.0.0.1:22", "*:8080", "db.local:*", "[::1]:443"].map(parsePermit);
  const cases: [string, number, boolean][] = [
    ["127.0.0.1", 22, true],
    ["127.0.0.1", 23, false],
    ["10.0.0.5", 8080, true],
    ["DB.local", 5432, true],
    ["::1", 443, true],
    ["::1", 22, false],
    ["localhost", 22, false], // names are compared literally, not resolved
  ];
  for (const [host, port, want] of cases) {
    test(`${host}:${port} is ${want ? "permitted" : "refused"}`, () => expect(isPermitted(rules, { host, port })).toBe(want));
  }
  test("parsePermit() refuses malformed rules with the reason", () => {
    expect(() => parsePermit("22")).toThrow(/expected HOST:PORT/);
    expect(() => parsePermit("host:0")).toThrow(/port must be/);
    expect(() => parsePermit("host:x")).toThrow(/port must be/);
  });
  test("permitText() round-trips, brackets IPv6", () => {
    expect(rules.map(permitText)).toEqual(["127.0.0.1:22", "*:8080", "db.local:*", "[::1]:443"]);
  });
});
