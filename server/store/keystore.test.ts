import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openKeystore, type StoredMeta } from "./keystore.ts";

const dir = mkdtempSync(join(tmpdir(), "inlay-keystore-"));
const path = join(dir, "ks.sqlite");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const meta = (extra: Partial<StoredMeta> = {}): StoredMeta => ({ createdBy: "@a", updatedBy: "@a", createdAt: 1, updatedAt: 1, version: 0, ...extra });

test("commit ids start at 0, increase, and the log keeps only the latest entry per key", () => {
  const ks = openKeystore(path);
  expect(ks.lastCommitId()).toBeNull();
  expect(ks.put({ key: "a@a", value: "1", meta: meta() }, "+")).toBe(0);
  expect(ks.put({ key: "b@a", value: "2", meta: meta() }, "*")).toBe(1);
  expect(ks.put({ key: "a@a", value: "3", meta: meta() }, "+")).toBe(2);
  expect(ks.remove("b@a")).toBe(3);
  expect(ks.remove("never@a")).toBe(4);
  expect(ks.commitsFrom(0, 10).map((c) => [c.id, c.key, c.op])).toEqual([
    [2, "a@a", "+"],
    [3, "b@a", "-"],
    [4, "never@a", "-"],
  ]);
  expect(ks.put({ key: "privatekey:x", value: "s", meta: meta() }, "+")).toBe(-1);
  expect(ks.put({ key: "public:_p@a", value: "s", meta: meta() }, "+")).toBe(-1);
  expect(ks.lastCommitId()).toBe(4);
  ks.close();
});

test("data survives reopening; the file is private", () => {
  const ks = openKeystore(path);
  expect(ks.get("a@a")?.value).toBe("3");
  expect(ks.get("b@a")).toBeNull();
  expect(ks.put({ key: "c@a", value: "x", meta: meta() }, "+")).toBe(5);
  ks.close();
  expect(statSync(path).mode & 0o777).toBe(0o600);
});

test("expired keys are found by time; nextExpiry is the earliest", () => {
  const ks = openKeystore(path);
  ks.put({ key: "t1@a", value: "x", meta: meta({ expiresAt: 100 }) }, "+");
  ks.put({ key: "t2@a", value: "x", meta: meta({ expiresAt: 50 }) }, "+");
  expect(ks.nextExpiry()).toBe(50);
  expect(ks.expiredKeys(60, 10)).toEqual(["t2@a"]);
  expect(ks.expiredKeys(1000, 10).sort()).toEqual(["t1@a", "t2@a"]);
  ks.close();
});

test("activeKeys leaves out keys before availableAt and after expiresAt", () => {
  const ks = openKeystore(path);
  ks.put({ key: "later@a", value: "x", meta: meta({ availableAt: 500 }) }, "+");
  expect(ks.activeKeys(40)).toEqual(expect.arrayContaining(["t1@a", "t2@a"]));
  expect(ks.activeKeys(40)).not.toContain("later@a");
  expect(ks.activeKeys(60)).not.toContain("t2@a");
  expect(ks.activeKeys(600)).toContain("later@a");
  expect(ks.activeKeys(600)).not.toContain("t1@a");
  ks.close();
});
