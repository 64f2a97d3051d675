/**
 * Notifications of one @sign in sqlite (`notifications.sqlite` beside the keystore): the ones it sent (which
 * double as the durable delivery queue) and the ones it received. A row is committed before the client sees
 * `data:<id>` (sender) or the sending server sees `data:success` (receiver), so a `kill -9` loses nothing that
 * was acknowledged. Received rows are unique per (id, from, to): a redelivery after a crash is recognised.
 */
import { Database as SqliteDatabase, type Database, type Statement } from "bun:sqlite";
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import type { MetadataPatch } from "../../core/verbs/command.ts";
import { openSqlite } from "../../core/store/sqlite.ts";
import { logger } from "../../core/log.ts";
import { METADATA_REPAIR_MIGRATION, metaNeedsRepairSql, repairRows } from "../store/meta_repair.ts";

const log = logger("notifications");
import type { NotifyCounters } from "../metrics/server_metrics.ts";

/** sent = queued for another @sign; received = from another @sign (or from ourselves); self = server-made. */
export type NotificationType = "sent" | "received" | "self";
/** What `notify:status` reports. */
export type NotificationStatus = "queued" | "delivered" | "errored" | "expired";

/** One stored notification. */
export interface NotificationRow {
  /** Local sequence number (order of arrival). */
  seq: number;
  id: string;
  type: NotificationType;
  from: string;
  to: string;
  /** The notification key: `@bob:phone@alice`, `public:x@alice`, or `@bob:<text>`. */
  key: string;
  value: string | null;
  op: "update" | "delete";
  messageType: "key" | "text";
  priority: "low" | "medium" | "high";
  strategy: "all" | "latest";
  latestN: number;
  notifier: string;
  status: NotificationStatus;
  /** Delivery attempts made so far (sent rows). */
  attempts: number;
  createdAt: number;
  expiresAt: number;
  /** When the next delivery attempt is due; null when none is pending. */
  nextAt: number | null;
  ttln: number;
  /** Metadata carried along (ttl, ttr, ccd, encryption fields); isEncrypted always set. */
  meta: MetadataPatch & { isEncrypted: boolean };
}

/** A row to insert (seq, attempts and status are decided by the store). */
export type NewNotification = Omit<NotificationRow, "seq" | "attempts" | "nextAt">;

/** Rows per page when reading many. */
export const NOTIFICATION_PAGE_ROWS = 500;

const SCHEMA_V1 = `
CREATE TABLE notifications (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  from_at TEXT NOT NULL,
  to_at TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT,
  op TEXT NOT NULL,
  message_type TEXT NOT NULL,
  priority TEXT NOT NULL,
  strategy TEXT NOT NULL,
  latest_n INTEGER NOT NULL,
  notifier TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  next_at INTEGER,
  ttln INTEGER NOT NULL,
  meta TEXT NOT NULL,
  UNIQUE (id, from_at, to_at)
);
CREATE INDEX notifications_due ON notifications (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX notifications_by_id ON notifications (id);
CREATE INDEX notifications_inbox ON notifications (type, created_at);
CREATE INDEX notifications_expiry ON notifications (expires_at);
`;

interface Row {
  seq: number;
  id: string;
  type: string;
  from_at: string;
  to_at: string;
  key: string;
  value: string | null;
  op: string;
  message_type: string;
  priority: string;
  strategy: string;
  latest_n: number;
  notifier: string;
  status: string;
  attempts: number;
  created_at: number;
  expires_at: number;
  next_at: number | null;
  ttln: number;
  meta: string;
}

const toRow = (r: Row): NotificationRow => ({
  seq: r.seq,
  id: r.id,
  type: r.type as NotificationType,
  from: r.from_at,
  to: r.to_at,
  key: r.key,
  value: r.value,
  op: r.op as NotificationRow["op"],
  messageType: r.message_type as NotificationRow["messageType"],
  priority: r.priority as NotificationRow["priority"],
  strategy: r.strategy as NotificationRow["strategy"],
  latestN: r.latest_n,
  notifier: r.notifier,
  status: r.status as NotificationStatus,
  attempts: r.attempts,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  nextAt: r.next_at,
  ttln: r.ttln,
  meta: JSON.parse(r.meta) as NotificationRow["meta"],
});

/**
 * Once after the upgrade: repairs rows whose metadata is past the bounds (server/store/meta_repair.ts). A row
 * whose metadata is not JSON cannot be shown or delivered: it is expired (the purge removes it), so no list or
 * replay meets it.
 */
function repairNotifications(db: Database): void {
  // Prepared only when a repair is pending (db.query caches them): a sound store keeps no statements for it.
  const update = () => db.query("UPDATE notifications SET meta = ? WHERE seq = ?");
  const expire = () =>
    db.query(`UPDATE notifications SET meta = '{"isEncrypted":true}', status = 'expired', next_at = NULL, expires_at = MIN(expires_at, created_at) WHERE seq = ?`);
  repairRows(db, {
    select: `SELECT seq AS id, meta FROM notifications WHERE ${metaNeedsRepairSql("meta", false)}`,
    update: (meta, seq) => void update().run(meta, seq),
    unreadable: (seq) => void expire().run(seq),
    withDates: false,
    log,
  });
}

/** Outcome of one delivery attempt. */
export type DeliveryOutcome = { seq: number; delivered: true } | { seq: number; delivered: false; retryAt: number | null };

/** The notification store of one @sign. All calls are synchronous sqlite transactions. */
export interface NotificationStore {
  /**
   * Inserts `n` unless a row with the same (id, from, to) exists. Sent rows are queued (due now). Returns the
   * stored row and whether it is new. For strategy `latest`, older queued rows of the same recipient and
   * notifier beyond the newest `latestN` stop being delivered (status expired).
   */
  insert(n: NewNotification): { row: NotificationRow; inserted: boolean };
  /** Rows with this id (any type), newest first. */
  byId(id: string): NotificationRow[];
  /** Removes every row with this id. */
  remove(id: string): void;
  /** Received/self rows after `afterSeq` created after `sinceMs` and not expired, oldest first. */
  inbox(opts: { sinceMs: number; afterSeq: number; includeSelf: boolean; limit: number; now?: number }): NotificationRow[];
  /** Sent rows addressed to `to` from this server, newest first, not expired (notify:list over pol). */
  sentTo(to: string, limit: number, now?: number): NotificationRow[];
  /** Recipients with a delivery due at or before `now`, longest waiting first. */
  dueRecipients(now: number, limit: number): string[];
  /** Due rows of one recipient, oldest first. Due rows past their expiry are marked expired instead. */
  due(to: string, now: number, limit: number): NotificationRow[];
  /** Earliest pending delivery time, or null. */
  nextDue(): number | null;
  /** Sent rows waiting for delivery (the queue depth). */
  pendingCount(): number;
  /** Records delivery attempts (one transaction). */
  recordOutcomes(outcomes: DeliveryOutcome[]): void;
  /** Pushes every due row of `to` to `retryAt` (the recipient is unreachable). */
  postpone(to: string, now: number, retryAt: number): void;
  /** Deletes rows that expired before `before`; returns how many. */
  purgeExpired(before: number, limit: number): number;
  close(): void;
}

/**
 * Whether the store file at `path` holds notifications still to deliver, read without opening the store or its migrations (hosting
 * mode starts the delivery of such an @sign at once, and leaves the others closed).
 */
export function hasPendingDeliveries(path: string): boolean {
  if (!existsSync(path)) return false;
  // Read-write without create: a read-only open of a WAL file fails when its -shm is missing (after a kill -9).
  const db = new SqliteDatabase(path, { readwrite: true, create: false });
  try {
    return db.query("SELECT 1 FROM notifications WHERE next_at IS NOT NULL LIMIT 1").get() !== null;
  } catch {
    // No table yet (never opened) or unreadable: the store's own open reports it when the @sign is used.
    return false;
  } finally {
    db.close();
  }
}

/**
 * Opens (creating if needed) the store file, mode 0600; rows queued, postponed and expired undelivered count in
 * `counts`.
 * @example const store = openNotificationStore(join(dataDir, "notifications.sqlite"));
 */
export function openNotificationStore(path: string, counts?: NotifyCounters): NotificationStore {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, "a", 0o600));
  }
  const db: Database = openSqlite(path, { migrations: [SCHEMA_V1, METADATA_REPAIR_MIGRATION] });
  repairNotifications(db);
  const cols = "seq, id, type, from_at, to_at, key, value, op, message_type, priority, strategy, latest_n, notifier, status, attempts, created_at, expires_at, next_at, ttln, meta";
  const q = {
    insert: db.query(
      `INSERT OR IGNORE INTO notifications (id, type, from_at, to_at, key, value, op, message_type, priority, strategy, latest_n, notifier, status, created_at, expires_at, next_at, ttln, meta)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    byKey: db.query<Row, [string, string, string]>(`SELECT ${cols} FROM notifications WHERE id = ? AND from_at = ? AND to_at = ?`),
    byId: db.query<Row, [string]>(`SELECT ${cols} FROM notifications WHERE id = ? ORDER BY seq DESC`),
    remove: db.query("DELETE FROM notifications WHERE id = ?"),
    supersede: db.query(
      `UPDATE notifications SET status = 'expired', next_at = NULL
       WHERE seq IN (SELECT seq FROM notifications WHERE type = 'sent' AND next_at IS NOT NULL AND strategy = 'latest'
                     AND to_at = ? AND notifier = ? ORDER BY seq DESC LIMIT -1 OFFSET ?)`,
    ),
    inbox: db.query<Row, [number, number, number, number, number]>(
      `SELECT ${cols} FROM notifications WHERE seq > ? AND created_at > ? AND expires_at > ?
       AND (type = 'received' OR (type = 'self' AND ?)) ORDER BY seq LIMIT ?`,
    ),
    sentTo: db.query<Row, [string, number, number]>(`SELECT ${cols} FROM notifications WHERE type = 'sent' AND to_at = ? AND expires_at > ? ORDER BY seq DESC LIMIT ?`),
    dueRecipients: db.query<{ to_at: string }, [number, number]>(
      "SELECT to_at FROM notifications WHERE next_at IS NOT NULL AND next_at <= ? GROUP BY to_at ORDER BY MIN(next_at) LIMIT ?",
    ),
    due: db.query<Row, [string, number, number]>(`SELECT ${cols} FROM notifications WHERE next_at IS NOT NULL AND to_at = ? AND next_at <= ? ORDER BY seq LIMIT ?`),
    expireDue: db.query("UPDATE notifications SET status = 'expired', next_at = NULL WHERE next_at IS NOT NULL AND to_at = ? AND expires_at <= ?"),
    nextDue: db.query<{ t: number | null }, []>("SELECT MIN(next_at) AS t FROM notifications WHERE next_at IS NOT NULL"),
    pending: db.query<{ n: number }, []>("SELECT count(*) AS n FROM notifications WHERE next_at IS NOT NULL"),
    delivered: db.query("UPDATE notifications SET status = 'delivered', attempts = attempts + 1, next_at = NULL WHERE seq = ?"),
    failed: db.query("UPDATE notifications SET status = 'errored', attempts = attempts + 1, next_at = ? WHERE seq = ?"),
    postpone: db.query("UPDATE notifications SET next_at = ? WHERE next_at IS NOT NULL AND to_at = ? AND next_at <= ?"),
    purge: db.query("DELETE FROM notifications WHERE seq IN (SELECT seq FROM notifications WHERE expires_at < ? LIMIT ?)"),
  } satisfies Record<string, Statement<any, any>>;

  const count = (event: "expired" | "retried", rows: number) => {
    if (counts) counts[event] += rows;
  };
  const insertTx = db.transaction((n: NewNotification): { row: NotificationRow; inserted: boolean } => {
    const nextAt = n.type === "sent" && n.status === "queued" ? n.createdAt : null;
    const r = q.insert.run(
      n.id, n.type, n.from, n.to, n.key, n.value, n.op, n.messageType, n.priority, n.strategy, n.latestN, n.notifier,
      n.status, n.createdAt, n.expiresAt, nextAt, n.ttln, JSON.stringify(n.meta),
    );
    const inserted = r.changes > 0;
    if (inserted && counts && nextAt !== null) counts.queued++;
    if (inserted && n.type === "sent" && n.strategy === "latest") count("expired", q.supersede.run(n.to, n.notifier, Math.max(1, n.latestN)).changes);
    return { row: toRow(q.byKey.get(n.id, n.from, n.to)!), inserted };
  });
  const outcomesTx = db.transaction((outcomes: DeliveryOutcome[]) => {
    for (const o of outcomes) {
      if (o.delivered) q.delivered.run(o.seq);
      else q.failed.run(o.retryAt, o.seq);
    }
  });

  return {
    insert: (n) => insertTx(n),
    byId: (id) => q.byId.all(id).map(toRow),
    remove: (id) => void q.remove.run(id),
    inbox: ({ sinceMs, afterSeq, includeSelf, limit, now = Date.now() }) => q.inbox.all(afterSeq, sinceMs, now, includeSelf ? 1 : 0, limit).map(toRow),
    sentTo: (to, limit, now = Date.now()) => q.sentTo.all(to, now, limit).map(toRow),
    dueRecipients: (now, limit) => q.dueRecipients.all(now, limit).map((r) => r.to_at),
    due(to, now, limit) {
      count("expired", q.expireDue.run(to, now).changes);
      return q.due.all(to, now, limit).map(toRow);
    },
    nextDue: () => q.nextDue.get()?.t ?? null,
    pendingCount: () => q.pending.get()?.n ?? 0,
    recordOutcomes: (outcomes) => outcomesTx(outcomes),
    postpone: (to, now, retryAt) => count("retried", q.postpone.run(retryAt, to, now).changes),
    purgeExpired: (before, limit) => q.purge.run(before, limit).changes,
    close: () => db.close(),
  };
}
