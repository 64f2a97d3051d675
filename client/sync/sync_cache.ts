/**
 * The local cache of one @sign on one device (bun:sqlite): every key as the server stores it (ciphertext
 * for private values, so the file holds nothing the server does not), the commit id each row reflects,
 * and local changes not yet pushed (`dirty`; a pending delete is a dirty row without a value).
 */
import type { Database } from "bun:sqlite";
import { chmodSync } from "node:fs";
import { openSqlite } from "../../core/store/sqlite.ts";
import type { RecordMeta } from "../data/record.ts";

const SCHEMA_V1 = `
CREATE TABLE entries (
  key        TEXT PRIMARY KEY,
  value      TEXT,
  meta       TEXT NOT NULL DEFAULT '{}',
  commit_id  INTEGER,
  dirty      INTEGER NOT NULL DEFAULT 0,
  changed_at INTEGER NOT NULL
);
CREATE INDEX entries_dirty ON entries (dirty) WHERE dirty = 1;
CREATE TABLE sync_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

/** One cached key. `value` null = deleted locally, waiting to be pushed. */
export interface CacheRow {
  key: string;
  value: string | null;
  meta: RecordMeta;
  commitId: number | null;
  dirty: boolean;
}

interface RawRow {
  key: string;
  value: string | null;
  meta: string;
  commit_id: number | null;
  dirty: number;
}

const toRow = (r: RawRow): CacheRow => ({ key: r.key, value: r.value, meta: JSON.parse(r.meta) as RecordMeta, commitId: r.commit_id, dirty: r.dirty === 1 });

/** The cache file's operations. */
export interface SyncCache {
  row(key: string): CacheRow | null;
  /** Live keys (pending deletes left out), sorted. */
  keys(): string[];
  dirtyRows(limit: number): CacheRow[];
  /** A local change: stored dirty, to be pushed. `value` null marks a delete. */
  change(key: string, value: string | null, meta: RecordMeta): void;
  /** A server entry applied (pull) or a push acknowledged: clean, at `commitId`; `value` null removes it. */
  settle(key: string, value: string | null, meta: RecordMeta | null, commitId: number | null): void;
  lastPulled(): number;
  setLastPulled(commitId: number): void;
  /** Runs `f` in one transaction (a page of pulled entries lands whole or not at all). */
  transaction(f: () => void): void;
  close(): void;
}

/**
 * Opens (creating) the cache at `file`, mode 0600.
 * @example const cache = openSyncCache("/home/me/.atsign/keys/@alice_key.sync.sqlite");
 */
export function openSyncCache(file: string): SyncCache {
  const db: Database = openSqlite(file, { migrations: [SCHEMA_V1] });
  chmodSync(file, 0o600);
  const getRow = db.query<RawRow, [string]>("SELECT key, value, meta, commit_id, dirty FROM entries WHERE key = ?");
  const liveKeys = db.query<{ key: string }, []>("SELECT key FROM entries WHERE value IS NOT NULL ORDER BY key");
  const dirty = db.query<RawRow, [number]>("SELECT key, value, meta, commit_id, dirty FROM entries WHERE dirty = 1 ORDER BY changed_at LIMIT ?");
  const upsertDirty = db.query(
    `INSERT INTO entries (key, value, meta, commit_id, dirty, changed_at) VALUES (?1, ?2, ?3, NULL, 1, ?4)
     ON CONFLICT (key) DO UPDATE SET value = ?2, meta = ?3, dirty = 1, changed_at = ?4`,
  );
  const upsertClean = db.query(
    `INSERT INTO entries (key, value, meta, commit_id, dirty, changed_at) VALUES (?1, ?2, ?3, ?4, 0, ?5)
     ON CONFLICT (key) DO UPDATE SET value = ?2, meta = ?3, commit_id = ?4, dirty = 0, changed_at = ?5`,
  );
  const markClean = db.query("UPDATE entries SET dirty = 0, commit_id = ?2 WHERE key = ?1");
  const remove = db.query("DELETE FROM entries WHERE key = ?");
  const getState = db.query<{ value: number }, [string]>("SELECT value FROM sync_state WHERE name = ?");
  const setState = db.query("INSERT INTO sync_state (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = ?2");

  return {
    row(key) {
      const r = getRow.get(key);
      return r ? toRow(r) : null;
    },
    keys: () => liveKeys.all().map((r) => r.key),
    dirtyRows: (limit) => dirty.all(limit).map(toRow),
    change(key, value, meta) {
      upsertDirty.run(key, value, JSON.stringify(meta), Date.now());
    },
    settle(key, value, meta, commitId) {
      if (value === null) remove.run(key);
      else if (meta === null) markClean.run(key, commitId);
      else upsertClean.run(key, value, JSON.stringify(meta), commitId, Date.now());
    },
    lastPulled: () => getState.get("last_pulled_commit_id")?.value ?? -1,
    setLastPulled(commitId) {
      setState.run("last_pulled_commit_id", commitId);
    },
    transaction(f) {
      db.transaction(f)();
    },
    close: () => db.close(),
  };
}
