import { expect, test } from "bun:test";
import { applyMetadata, isActive, patchIsEmpty } from "./metadata.ts";

test("a new key gets version 0 and derived times from ttl/ttb/ttr (ttr in seconds)", () => {
  const m = applyMetadata(null, { ttl: 1000, ttb: 200, ttr: 60 }, "@a", 10_000);
  expect(m).toMatchObject({ version: 0, createdAt: 10_000, availableAt: 10_200, expiresAt: 11_200, refreshAt: 70_000, ccd: false });
  expect(isActive(m, 10_100)).toBe(false);
  expect(isActive(m, 10_200)).toBe(true);
  expect(isActive(m, 11_200)).toBe(false);
});

test("updates keep unmentioned fields, clear null and 0, bump version", () => {
  const a = applyMetadata(null, { ttl: 1000, isBinary: true, ivNonce: "x" }, "@a", 1);
  const b = applyMetadata(a, { ivNonce: null, ttl: 0 }, "@a", 5);
  expect(b).toMatchObject({ version: 1, createdAt: 1, updatedAt: 5, isBinary: true });
  expect(b.ivNonce).toBeUndefined();
  expect(b.ttl).toBeUndefined();
  expect(b.expiresAt).toBeUndefined();
});

test("ccd without ttr is dropped; bad times are AT0003", () => {
  expect(applyMetadata(null, { ccd: true }, "@a").ccd).toBeUndefined();
  expect(() => applyMetadata(null, { ttl: -1 }, "@a")).toThrow("ttl");
  expect(() => applyMetadata(null, { ttr: -2 }, "@a")).toThrow("ttr");
  expect(patchIsEmpty({})).toBe(true);
  expect(patchIsEmpty({ ttl: null })).toBe(false);
});
