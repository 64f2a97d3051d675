import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSyncCache } from "./sync_cache.ts";

const dir = mkdtempSync(join(tmpdir(), "inlay-sync-cache-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("local changes are dirty until settled; pulls land clean; deletes remove; state survives a reopen", () => {
  const file = join(dir, "a.sqlite");
  const cache = openSyncCache(file);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(cache.lastPulled()).toBe(-1);
  cache.change("phone@alice", "c1", { isEncrypted: true, ivNonce: "aXY=" });
  cache.change("gone@alice", null, {});
  expect(cache.dirtyRows(10).map((r) => [r.key, r.value, r.dirty])).toEqual([
    ["phone@alice", "c1", true],
    ["gone@alice", null, true],
  ]);
  expect(cache.keys()).toEqual(["phone@alice"]);
  cache.transaction(() => {
    cache.settle("city@alice", "Porto", { isEncrypted: false }, 7);
    cache.setLastPulled(7);
  });
  cache.settle("phone@alice", "c1", null, 8);
  cache.settle("gone@alice", null, null, null);
  expect(cache.dirtyRows(10)).toEqual([]);
  expect(cache.row("phone@alice")).toEqual({ key: "phone@alice", value: "c1", meta: { isEncrypted: true, ivNonce: "aXY=" }, commitId: 8, dirty: false });
  expect(cache.row("gone@alice")).toBeNull();
  cache.close();
  const again = openSyncCache(file);
  expect(again.lastPulled()).toBe(7);
  expect(again.keys()).toEqual(["city@alice", "phone@alice"]);
  again.close();
});
