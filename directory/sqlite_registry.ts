/**
 * The registry in one bun:sqlite file: the default store of a single directory process.
 *
 * The table is `WITHOUT ROWID`, so a lookup is one descent of the primary-key B-tree, and every statement is
 * prepared once at open. There is deliberately no in-memory copy: at 1,000,000 rows a lookup measured 2.5 µs
 * p50 / 3.5 µs p99 here, against ~11 µs of server CPU per TLS lookup, while a Map of the same rows costs
 * ~320 MB. Lookups answer synchronously; the other operations resolve at once.
 */
import type { Statement } from "bun:sqlite";
import { openSqlite } from "../core/store/sqlite.ts";
import { pageSize, registryKey, toPage, type Registration, type Registry } from "./registry.ts";

/** Schema migrations of the registry file (shared with the fixture generator, which writes the same file). */
export const REGISTRY_MIGRATIONS = [
  `CREATE TABLE atsigns (
     atsign TEXT PRIMARY KEY,
     host TEXT NOT NULL,
     port INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) STRICT, WITHOUT ROWID`,
];

type Row = { atsign: string; host: string; port: number; updated_at: number };

const toRegistration = (r: Row): Registration => ({ atSign: "@" + r.atsign, host: r.host, port: r.port, updatedAt: r.updated_at });

/**
 * Opens (creating if needed) the registry database file at `path`. Its count is taken at open: rows written by
 * another process while this one is open are not counted.
 * @example const reg = openSqliteRegistry(join(dataDir, "registry.sqlite")); await reg.put("@alice", "localhost", 6464);
 */
export function openSqliteRegistry(path: string): Registry {
  const db = openSqlite(path, { migrations: REGISTRY_MIGRATIONS });
  const lookupStmt = db.prepare<{ address: string }, [string]>("SELECT host || ':' || port AS address FROM atsigns WHERE atsign = ?");
  const getStmt = db.prepare<Row, [string]>("SELECT atsign, host, port, updated_at FROM atsigns WHERE atsign = ?");
  const existsStmt = db.prepare<{ one: number }, [string]>("SELECT 1 AS one FROM atsigns WHERE atsign = ?");
  const upsertStmt = db.prepare<Row, [string, string, number, number]>(
    "INSERT INTO atsigns (atsign, host, port, updated_at) VALUES (?, ?, ?, ?) " +
      "ON CONFLICT(atsign) DO UPDATE SET host = excluded.host, port = excluded.port, updated_at = excluded.updated_at",
  );
  const deleteStmt = db.prepare<Row, [string]>("DELETE FROM atsigns WHERE atsign = ?");
  const pageStmt = db.prepare<Row, [string, number]>("SELECT atsign, host, port, updated_at FROM atsigns WHERE atsign > ? ORDER BY atsign LIMIT ?");
  let count = (db.query("SELECT count(*) AS n FROM atsigns").get() as { n: number }).n;

  // Each put checks for an existing row inside its transaction so the in-memory count stays exact.
  const put = db.transaction((key: string, host: string, port: number, now: number) => {
    if (!existsStmt.get(key)) count++;
    upsertStmt.run(key, host, port, now);
  });
  const stmts: Statement[] = [lookupStmt, getStmt, existsStmt, upsertStmt, deleteStmt, pageStmt];

  return {
    lookup: (key) => lookupStmt.get(key)?.address ?? null,
    async get(atSign) {
      const r = getStmt.get(registryKey(atSign));
      return r ? toRegistration(r) : null;
    },
    async put(atSign, host, port) {
      const now = Date.now();
      put(registryKey(atSign), host, port, now);
      return { atSign, host, port, updatedAt: now };
    },
    async remove(atSign) {
      const removed = deleteStmt.run(registryKey(atSign)).changes > 0;
      if (removed) count--;
      return removed;
    },
    async list(after, limit) {
      const n = pageSize(limit);
      return toPage(pageStmt.all(after === null ? "" : registryKey(after), n + 1).map(toRegistration), n);
    },
    count: () => count,
    async ping() {
      lookupStmt.get("");
    },
    async close() {
      for (const s of stmts) s.finalize();
      db.close();
    },
  };
}
