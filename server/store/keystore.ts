/**
 * One @sign's keystore and commit log in one sqlite file.
 *
 * Every mutation and its commit entry are written in one transaction, so a key is never stored without its
 * commit (or the reverse), and the transaction is durable (WAL, synchronous=NORMAL) before the caller answers
 * `data:<id>`. Commit ids are integers from 0, strictly increasing; the log keeps only the latest entry per key
 * (a new entry replaces the key's previous one), exactly like the reference server's commit log.
 */
import type { Database, Statement } from "bun:sqlite";
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { isCommittedKey } from "../../core/keys/index.ts";
import { openSqlite } from "../../core/store/sqlite.ts";
import { logger } from "../../core/log.ts";
import { METADATA_REPAIR_MIGRATION, metaNeedsRepairSql, repairRows } from "./meta_repair.ts";

const log = logger("keystore");

/** Commit operation symbols of the reference: `+` value only, `#` metadata only, `*` value and metadata, `-` delete. */
export type CommitOp = "+" | "#" | "*" | "-";

/**
 * Metadata as stored. Times are epoch milliseconds; absent fields are unset. Field names follow the
 * reference's AtMetaData JSON so formatting is a rename-free copy.
 */
export interface StoredMeta {
  createdBy: string;
  updatedBy: string;
  createdAt: number;
  updatedAt: number;
  availableAt?: number;
  expiresAt?: number;
  refreshAt?: number;
  version: number;
  ttl?: number;
  ttb?: number;
  ttr?: number;
  ccd?: boolean;
  isBinary?: boolean;
  isEncrypted?: boolean;
  dataSignature?: string;
  sharedKeyEnc?: string;
  pubKeyCS?: string;
  encoding?: string;
  encKeyName?: string;
  encAlgo?: string;
  ivNonce?: string;
  skeEncKeyName?: string;
  skeEncAlgo?: string;
  pubKeyHash?: string;
  hashingAlgo?: string;
  /** Set: `update` refuses the key and `delete` needs `:force` (at_server 3.4). */
  immutable?: boolean;
  appMetadata?: string;
}

/**
 * How a write touches the commit log: `commit` (the default) adds the key's entry, replacing its old one;
 * `skip` leaves the log alone (server-internal records); `purge` (the `:nc` flag) adds none and removes the
 * key's old entry. `opTime` is the entry's time (a caller-asserted updatedAt or `delete:dAt`), default now.
 */
export interface CommitOptions {
  commit?: "commit" | "skip" | "purge";
  opTime?: number;
}

/** A stored key with its value (null for a metadata-only record) and metadata. */
export interface StoredRecord {
  key: string;
  value: string | null;
  meta: StoredMeta;
}

/** One commit log entry. */
export interface CommitEntry {
  id: number;
  key: string;
  op: CommitOp;
  opTime: number;
}

// Never edit a released migration: append a new one.
const SCHEMA_V1 = `
CREATE TABLE keys (
  key TEXT PRIMARY KEY,
  value TEXT,
  meta TEXT NOT NULL,
  expires_at INTEGER
) WITHOUT ROWID;
CREATE INDEX keys_expires_at ON keys (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE commits (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  op TEXT NOT NULL,
  op_time INTEGER NOT NULL
);
`;

// availableAt as a column, so scan can filter active keys in sqlite instead of parsing every metadata JSON.
const SCHEMA_V2 = `
ALTER TABLE keys ADD COLUMN available_at INTEGER;
UPDATE keys SET available_at = json_extract(meta, '$.availableAt');
`;

interface Row {
  key: string;
  value: string | null;
  meta: string;
}

/** The keystore of one @sign. Synchronous: bun:sqlite calls are fast and a transaction must not await. */
export interface Keystore {
  get(key: string): StoredRecord | null;
  /**
   * Stores a record; returns its commit id, or -1 for uncommitted keys and for `skipCommit` writes
   * (server-internal records that clients must not sync) and `purge` writes.
   */
  put(record: StoredRecord, op: CommitOp, opts?: { skipCommit?: boolean } & CommitOptions): number;
  /** Removes a key (present or not) and commits `-`; returns the commit id, or -1 for uncommitted keys and `purge`. */
  remove(key: string, opts?: CommitOptions): number;
  /** Every stored key name, in key order. */
  keys(): string[];
  /** Names of the keys readable at `now` (past availableAt, before expiresAt), in key order (scan). */
  activeKeys(now: number): string[];
  /** Commit entries with id >= `fromId`, in id order, at most `limit`. */
  commitsFrom(fromId: number, limit: number): CommitEntry[];
  /** Every commit entry in id order, read lazily (stats 15). */
  allCommits(): IterableIterator<CommitEntry>;
  /** Every commit entry from the newest back, read lazily (the regex form of stats:3 stops at the first match). */
  commitsNewestFirst(): IterableIterator<CommitEntry>;
  /** Highest commit id, or null when nothing was ever committed. */
  lastCommitId(): number | null;
  /** Keys whose expiresAt is at or before `now`, at most `limit`. */
  expiredKeys(now: number, limit: number): string[];
  /** Earliest expiresAt of any key, or null. */
  nextExpiry(): number | null;
  /** Bytes of the database file as sqlite counts them. */
  sizeBytes(): number;
  /** Bytes of the pages in use (sizeBytes less the free pages deletes leave for later writes): a quota's measure. */
  usedBytes(): number;
  close(): void;
}

// A row whose metadata is not JSON (damage from outside) reads as absent, so no read that meets it fails.
function parseMeta(row: Row): StoredMeta | null {
  try {
    return JSON.parse(row.meta) as StoredMeta;
  } catch {
    log.debug("stored metadata is not JSON; the key reads as absent", { key: row.key });
    return null;
  }
}

/** Once after the upgrade: repairs keys whose metadata is past the bounds (see meta_repair.ts), date columns with it. */
function repairKeys(db: Database): void {
  // Prepared only when a repair is pending (db.query caches it): a sound store keeps no statement for it.
  const update = () => db.query("UPDATE keys SET meta = ?1, expires_at = json_extract(?1, '$.expiresAt'), available_at = json_extract(?1, '$.availableAt') WHERE key = ?2");
  repairRows(db, {
    select: `SELECT key AS id, meta FROM keys WHERE ${metaNeedsRepairSql("meta", true)}`,
    update: (meta, key) => void update().run(meta, key),
    unreadable: () => {},
    withDates: true,
    log,
  });
}

function* mapRows<R, T>(rows: Iterable<R>, f: (r: R) => T): IterableIterator<T> {
  for (const r of rows) yield f(r);
}

/**
 * Opens (creating if needed) the keystore file.
 * @example const ks = openKeystore(join(dataDir, "keystore.sqlite")); ks.put(rec, "*");
 */
export function openKeystore(path: string): Keystore {
  // The file holds secrets; sqlite gives its -wal/-shm files the main file's mode, so create it 0600 first.
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, "a", 0o600));
  }
  const db: Database = openSqlite(path, { migrations: [SCHEMA_V1, SCHEMA_V2, METADATA_REPAIR_MIGRATION] });
  repairKeys(db);
  const q = {
    get: db.query<Row, [string]>("SELECT key, value, meta FROM keys WHERE key = ?"),
    upsert: db.query(
      "INSERT INTO keys (key, value, meta, expires_at, available_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, meta = excluded.meta, expires_at = excluded.expires_at, available_at = excluded.available_at",
    ),
    del: db.query("DELETE FROM keys WHERE key = ?"),
    keys: db.query<{ key: string }, []>("SELECT key FROM keys ORDER BY key"),
    activeKeys: db.query<{ key: string }, [number, number]>(
      "SELECT key FROM keys WHERE (available_at IS NULL OR available_at <= ?) AND (expires_at IS NULL OR expires_at > ?) ORDER BY key",
    ),
    maxId: db.query<{ id: number | null }, []>("SELECT MAX(id) AS id FROM commits"),
    delCommit: db.query("DELETE FROM commits WHERE key = ?"),
    addCommit: db.query("INSERT INTO commits (id, key, op, op_time) VALUES (?, ?, ?, ?)"),
    commitsFrom: db.query<{ id: number; key: string; op: string; op_time: number }, [number, number]>(
      "SELECT id, key, op, op_time FROM commits WHERE id >= ? ORDER BY id LIMIT ?",
    ),
    allCommits: db.query<{ id: number; key: string; op: string; op_time: number }, []>("SELECT id, key, op, op_time FROM commits ORDER BY id"),
    newestFirst: db.query<{ id: number; key: string; op: string; op_time: number }, []>("SELECT id, key, op, op_time FROM commits ORDER BY id DESC"),
    expired: db.query<{ key: string }, [number, number]>("SELECT key FROM keys WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?"),
    nextExpiry: db.query<{ t: number | null }, []>("SELECT MIN(expires_at) AS t FROM keys WHERE expires_at IS NOT NULL"),
    size: db.query<{ n: number }, []>("SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()"),
    used: db.query<{ n: number }, []>("SELECT (page_count - freelist_count) * page_size AS n FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()"),
  } satisfies Record<string, Statement<any, any>>;

  const commit = (key: string, op: CommitOp, opts: CommitOptions): number => {
    if (opts.commit === "skip") return -1;
    if (opts.commit === "purge") {
      q.delCommit.run(key);
      return -1;
    }
    if (!isCommittedKey(key)) return -1;
    const id = (q.maxId.get()?.id ?? -1) + 1;
    q.delCommit.run(key);
    q.addCommit.run(id, key, op, opts.opTime ?? Date.now());
    return id;
  };
  const putTx = db.transaction((r: StoredRecord, op: CommitOp, opts: CommitOptions): number => {
    q.upsert.run(r.key, r.value, JSON.stringify(r.meta), r.meta.expiresAt ?? null, r.meta.availableAt ?? null);
    return commit(r.key, op, opts);
  });
  const removeTx = db.transaction((key: string, opts: CommitOptions): number => {
    q.del.run(key);
    return commit(key, "-", opts);
  });
  const toEntry = (r: { id: number; key: string; op: string; op_time: number }): CommitEntry => ({ id: r.id, key: r.key, op: r.op as CommitOp, opTime: r.op_time });

  return {
    get(key) {
      const row = q.get.get(key);
      const meta = row ? parseMeta(row) : null;
      return row && meta ? { key: row.key, value: row.value, meta } : null;
    },
    put: (record, op, opts) => putTx(record, op, opts?.skipCommit === true ? { commit: "skip" } : (opts ?? {})),
    remove: (key, opts) => removeTx(key, opts ?? {}),
    keys: () => q.keys.all().map((r) => r.key),
    activeKeys: (now) => q.activeKeys.all(now, now).map((r) => r.key),
    commitsFrom: (fromId, limit) => q.commitsFrom.all(fromId, limit).map(toEntry),
    allCommits: () => mapRows(q.allCommits.iterate(), toEntry),
    commitsNewestFirst: () => mapRows(q.newestFirst.iterate(), toEntry),
    lastCommitId: () => q.maxId.get()?.id ?? null,
    expiredKeys: (now, limit) => q.expired.all(now, limit).map((r) => r.key),
    nextExpiry: () => q.nextExpiry.get()?.t ?? null,
    sizeBytes: () => q.size.get()?.n ?? 0,
    usedBytes: () => q.used.get()?.n ?? 0,
    close: () => db.close(),
  };
}
