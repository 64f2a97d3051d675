import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqlite } from "./sqlite.ts";

const dir = mkdtempSync(join(tmpdir(), "inlay-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("migrations run once, in order, and survive reopen", () => {
  const path = join(dir, "a", "db.sqlite");
  const v1 = ["CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) STRICT"];
  let db = openSqlite(path, { migrations: v1 });
  db.run("INSERT INTO kv VALUES ('x', '1')");
  expect((db.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode).toBe("wal");
  db.close();
  db = openSqlite(path, { migrations: [...v1, "ALTER TABLE kv ADD COLUMN ts INTEGER"] });
  expect(db.query("SELECT k, v, ts FROM kv").all()).toEqual([{ k: "x", v: "1", ts: null }]);
  db.close();
  expect(() => openSqlite(path, { migrations: v1 })).toThrow("newer than this build knows");
});
