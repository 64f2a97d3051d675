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

test("3.16.3: a write naming no time keeps expiresAt/availableAt; an explicit ttl re-derives from now without the kept ttb", () => {
  const a = applyMetadata(null, { ttl: 1000, ttb: 200 }, "@a", 10_000);
  const b = applyMetadata(a, { isBinary: true }, "@a", 10_500);
  expect(b).toMatchObject({ ttl: 1000, ttb: 200, availableAt: 10_200, expiresAt: 11_200 });
  const c = applyMetadata(b, { ttl: 300 }, "@a", 10_600);
  expect(c).toMatchObject({ ttl: 300, availableAt: 10_200, expiresAt: 10_900 });
  const d = applyMetadata(c, { ttb: 0 }, "@a", 10_700);
  expect(d.ttb).toBeUndefined();
  expect(d.availableAt).toBe(10_700);
});

test("asserted times: stored to the ms, and a missing ttl/ttb is derived from them (from the later of uAt and aAt)", () => {
  const m = applyMetadata(null, { uAt: "1970-01-01T00:00:10.000999Z", aAt: "1970-01-01T00:00:12Z", eAt: "1970-01-01T00:00:15.5Z" }, "@a", 99_000);
  expect(m).toMatchObject({ updatedAt: 10_000, availableAt: 12_000, expiresAt: 15_500, ttb: 2_000, ttl: 3_500, createdAt: 99_000 });
  // A non-positive implied relative clears it instead.
  const n = applyMetadata(m, { eAt: "1970-01-01T00:00:05Z", uAt: "1970-01-01T00:00:10Z" }, "@a", 99_000);
  expect(n.expiresAt).toBe(5_000);
  expect(n.ttl).toBeUndefined();
  expect(() => applyMetadata(null, { cAt: "+275760-09-13T00:00:00.001Z" }, "@a")).toThrow("cAt");
});
