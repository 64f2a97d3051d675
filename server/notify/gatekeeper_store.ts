/**
 * The gatekeeper's sqlite file (`gatekeeper.sqlite` beside the keystore; Inlay's own, server/README.md
 * "Gatekeeper"): the owner's rules as one document, the @signs it knows (admitted, or sent a notification),
 * the quarantine of notifications from unknown senders, and the drop counters. Kept apart from the keystore and
 * the notification store so that a held notification costs one small row and nothing else (no commit-log entry,
 * no cache, no monitor), and a dropped one a counter.
 */
import type { Database, Statement } from "bun:sqlite";
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { openSqlite } from "../../core/store/sqlite.ts";

const SCHEMA_V1 = `
CREATE TABLE gate_rules (id INTEGER PRIMARY KEY CHECK (id = 1), doc TEXT NOT NULL);
CREATE TABLE gate_known (at_sign TEXT PRIMARY KEY, admitted INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE quarantine (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  from_at TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  held_at INTEGER NOT NULL,
  body TEXT NOT NULL,
  UNIQUE (id, from_at)
);
CREATE INDEX quarantine_by_sender ON quarantine (from_at, seq);
CREATE TABLE gate_counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
`;

/** One held notification: `body` is the notification as it would be stored, as JSON. */
export interface HeldRow {
  seq: number;
  id: string;
  from: string;
  bytes: number;
  heldAt: number;
  body: string;
}

/** The gatekeeper's rows. All calls are synchronous sqlite statements. */
export interface GatekeeperStore {
  readRules(): string | null;
  writeRules(doc: string): void;
  /** Every known @sign and whether the owner admitted it (else it was sent to). */
  known(): { atSign: string; admitted: boolean }[];
  setKnown(atSign: string, admitted: boolean): void;
  forgetKnown(atSign: string): void;
  /** Inserts unless (id, from) is held already; returns the new row's seq, or null. */
  hold(row: Omit<HeldRow, "seq">): number | null;
  /** Held count and bytes per sender (to rebuild the in-memory summary). */
  senders(): { from: string; held: number; bytes: number }[];
  heldOf(from: string): HeldRow[];
  /** The oldest held row (of `from`, or of anyone). */
  oldest(from?: string): Pick<HeldRow, "seq" | "from" | "bytes"> | null;
  dropSeq(seq: number): void;
  dropSender(from: string): void;
  counters(): Record<string, number>;
  setCounter(name: string, n: number): void;
  /** Runs `f` in one transaction. */
  tx<T>(f: () => T): T;
  close(): void;
}

/**
 * Opens (creating if needed) the file, mode 0600.
 * @example const store = openGatekeeperStore(join(dataDir, "gatekeeper.sqlite"));
 */
export function openGatekeeperStore(path: string): GatekeeperStore {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, "a", 0o600));
  }
  const db: Database = openSqlite(path, { migrations: [SCHEMA_V1] });
  const q = {
    readRules: db.query<{ doc: string }, []>("SELECT doc FROM gate_rules WHERE id = 1"),
    writeRules: db.query("INSERT INTO gate_rules (id, doc) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc"),
    known: db.query<{ at_sign: string; admitted: number }, []>("SELECT at_sign, admitted FROM gate_known"),
    setKnown: db.query("INSERT INTO gate_known (at_sign, admitted) VALUES (?, ?) ON CONFLICT (at_sign) DO UPDATE SET admitted = MAX(admitted, excluded.admitted)"),
    forgetKnown: db.query("DELETE FROM gate_known WHERE at_sign = ?"),
    hold: db.query("INSERT OR IGNORE INTO quarantine (id, from_at, bytes, held_at, body) VALUES (?, ?, ?, ?, ?)"),
    senders: db.query<{ from_at: string; held: number; bytes: number }, []>("SELECT from_at, count(*) AS held, sum(bytes) AS bytes FROM quarantine GROUP BY from_at"),
    heldOf: db.query<{ seq: number; id: string; from_at: string; bytes: number; held_at: number; body: string }, [string]>(
      "SELECT seq, id, from_at, bytes, held_at, body FROM quarantine WHERE from_at = ? ORDER BY seq",
    ),
    oldestOf: db.query<{ seq: number; from_at: string; bytes: number }, [string]>("SELECT seq, from_at, bytes FROM quarantine WHERE from_at = ? ORDER BY seq LIMIT 1"),
    oldest: db.query<{ seq: number; from_at: string; bytes: number }, []>("SELECT seq, from_at, bytes FROM quarantine ORDER BY seq LIMIT 1"),
    dropSeq: db.query("DELETE FROM quarantine WHERE seq = ?"),
    dropSender: db.query("DELETE FROM quarantine WHERE from_at = ?"),
    counters: db.query<{ name: string; n: number }, []>("SELECT name, n FROM gate_counters"),
    setCounter: db.query("INSERT INTO gate_counters (name, n) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET n = excluded.n"),
  } satisfies Record<string, Statement<any, any>>;
  const oldestRow = (r: { seq: number; from_at: string; bytes: number } | null) => (r ? { seq: r.seq, from: r.from_at, bytes: r.bytes } : null);
  return {
    readRules: () => q.readRules.get()?.doc ?? null,
    writeRules: (doc) => void q.writeRules.run(doc),
    known: () => q.known.all().map((r) => ({ atSign: r.at_sign, admitted: r.admitted === 1 })),
    setKnown: (atSign, admitted) => void q.setKnown.run(atSign, admitted ? 1 : 0),
    forgetKnown: (atSign) => void q.forgetKnown.run(atSign),
    hold: (r) => {
      const res = q.hold.run(r.id, r.from, r.bytes, r.heldAt, r.body);
      return res.changes > 0 ? Number(res.lastInsertRowid) : null;
    },
    senders: () => q.senders.all().map((r) => ({ from: r.from_at, held: r.held, bytes: r.bytes })),
    heldOf: (from) => q.heldOf.all(from).map((r) => ({ seq: r.seq, id: r.id, from: r.from_at, bytes: r.bytes, heldAt: r.held_at, body: r.body })),
    oldest: (from) => oldestRow(from === undefined ? q.oldest.get() : q.oldestOf.get(from)),
    dropSeq: (seq) => void q.dropSeq.run(seq),
    dropSender: (from) => void q.dropSender.run(from),
    counters: () => Object.fromEntries(q.counters.all().map((r) => [r.name, r.n])),
    setCounter: (name, n) => void q.setCounter.run(name, n),
    tx: (f) => db.transaction(f)(),
    close: () => db.close(),
  };
}
