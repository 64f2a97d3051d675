/**
 * Opens a bun:sqlite database the way every Inlay store wants it: WAL, a busy timeout, foreign keys, and
 * numbered migrations applied once (tracked in `PRAGMA user_version`).
 *
 * Durability: `synchronous = NORMAL` in WAL mode makes a committed transaction survive a process crash
 * (`kill -9`), which is what "durable before data:success" promises; `FULL` also survives power loss at the
 * cost of an fsync per commit.
 */
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

export type Durability = "normal" | "full";

export interface OpenOptions {
  durability?: Durability;
  /** SQL scripts; index i moves the schema from version i to i+1. Never edit a released one: append. */
  migrations?: string[];
}

/** How long a writer waits for another connection's lock before failing. */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/**
 * Opens (creating if needed) the database at `path`, parent folders mode 0700.
 * @example const db = openSqlite(join(dir, "keystore.sqlite"), { migrations: [SCHEMA_V1] });
 */
export function openSqlite(path: string, opts: OpenOptions = {}): Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path, { create: true, strict: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run(`PRAGMA synchronous = ${opts.durability === "full" ? "FULL" : "NORMAL"}`);
  db.run(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  db.run("PRAGMA foreign_keys = ON");
  migrate(db, opts.migrations ?? []);
  return db;
}

function migrate(db: Database, migrations: string[]): void {
  const current = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
  if (current > migrations.length) {
    throw new RangeError(`Cannot open database: schema version ${current} is newer than this build knows (${migrations.length}); upgrade Inlay`);
  }
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.run(migrations[v]!);
      db.run(`PRAGMA user_version = ${v + 1}`);
    })();
  }
}
