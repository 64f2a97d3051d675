import { Database } from "bun:sqlite";
import { asOlderVersion } from "../../test/older_store.ts";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DART_DATE_LIMIT_MS } from "../../core/wire/index.ts";
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

test("at open, metadata an older version stored past the bounds is clamped, date columns with it", () => {
  const poisoned = join(dir, "poisoned.sqlite");
  openKeystore(poisoned).close();
  const db = asOlderVersion(poisoned);
  const bad = meta({ ttl: 8.64e15, ttr: 8.64e15, availableAt: -1e300, expiresAt: 8.64e15 + 5_000, createdAt: "soon" as unknown as number });
  db.query("INSERT INTO keys (key, value, meta, expires_at, available_at) VALUES ('p@a', 'v', ?, ?, ?)").run(JSON.stringify(bad), bad.expiresAt!, -1e300);
  db.query("INSERT INTO keys (key, value, meta, expires_at) VALUES ('fine@a', 'v', ?, 6)").run(JSON.stringify(meta({ ttl: 5, expiresAt: 6 })));
  db.close();
  const ks = openKeystore(poisoned);
  const m = ks.get("p@a")!.meta;
  expect(m).toMatchObject({ ttl: 1e15, ttr: 1e12, availableAt: -DART_DATE_LIMIT_MS, expiresAt: DART_DATE_LIMIT_MS });
  expect(m.createdAt).toBeUndefined();
  expect(ks.get("fine@a")!.meta).toEqual(meta({ ttl: 5, expiresAt: 6 }));
  expect(ks.expiredKeys(DART_DATE_LIMIT_MS, 10).sort()).toEqual(["fine@a", "p@a"]);
  expect(ks.activeKeys(7)).toEqual(["p@a"]);
  ks.close();
  // The repair ran once: a row written past the bounds later (only by hand: every write is bounded) stays.
  const again = new Database(poisoned);
  again.query("UPDATE keys SET meta = ? WHERE key = 'fine@a'").run(JSON.stringify(meta({ ttl: 8.64e15 })));
  again.close();
  const reopened = openKeystore(poisoned);
  expect(reopened.get("fine@a")!.meta.ttl).toBe(8.64e15);
  reopened.close();
});
