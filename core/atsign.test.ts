import { expect, test } from "bun:test";
import { atSignSchema, normalizeAtSign } from "./atsign.ts";

test.each([
  ["alice", "@alice"],
  ["@Alice", "@alice"],
  ["  @bob_42-x ", "@bob_42-x"],
  ["@🦄", "@🦄"],
  ["@" + "a".repeat(55), "@" + "a".repeat(55)],
])("accepts %p", (raw, canonical) => {
  expect(normalizeAtSign(raw)).toBe(canonical);
});

test.each(["", "@", "@a b", "@a:b", "@a@b", "@a.b", "@" + "a".repeat(56), "@a\u0000"])("refuses %p", (raw) => {
  expect(() => normalizeAtSign(raw)).toThrow(RangeError);
  expect(atSignSchema.safeParse(raw).success).toBe(false);
});
