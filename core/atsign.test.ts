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

test("the schema's refusal names the @sign and the problem; non-strings are refused", () => {
  expect(atSignSchema.safeParse("@a b").error?.issues[0]?.message).toBe('@sign "@a b" may contain only letters, digits, _ , - and emoji');
  expect(atSignSchema.safeParse(5).error?.issues[0]?.message).toBe("an @sign must be a string");
  expect(atSignSchema.parse(" @Bob ")).toBe("@bob");
});
