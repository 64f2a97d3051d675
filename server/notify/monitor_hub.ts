/**
 * Monitor connections of one @sign (ATPROTOCOL.md §5.11, §6.3, §6.4): replay of stored notifications newer
 * than `epochMillis`, then live `notification: {json}\n` lines filtered by regex and, for an APKAM
 * connection, by what its enrollment may read (notification_access.ts), plus stats notifications.
 *
 * A monitor never slows anyone else down: a notification is written to each monitor's socket queue and the
 * sender moves on. When a monitor's unread backlog would pass MONITOR_BUFFER_MAX_BYTES it is disconnected;
 * its client reconnects with `monitor:<last epochMillis>` and gets the missed ones by replay. Replay itself is
 * paced by the same backlog, so a large backlog never trips that limit.
 */
import { monitorLine, notificationJson, statsNotificationJson, type NotificationView } from "../../core/verbs/index.ts";
import type { LinearRegex } from "../../core/linear_regex/index.ts";
import { logger } from "../../core/log.ts";
import { AtProtocolError, STATS_NOTIFICATION_INTERVAL_MS } from "../../core/wire/index.ts";
import type { Connection } from "../connection.ts";
import { clientRegex } from "../key_policy.ts";
import { mayReadNotification } from "./notification_access.ts";
import { NOTIFICATION_PAGE_ROWS, type NotificationRow, type NotificationStore } from "./notification_store.ts";

/** Monitor connections at once, per @sign. */
export const MONITORS_MAX = 100;
/** Unread bytes queued for one monitor before it is disconnected. */
export const MONITOR_BUFFER_MAX_BYTES = 1024 * 1024;
/** Live notifications held for a monitor while its replay runs; beyond it the monitor is disconnected. */
export const MONITOR_HELD_MAX = 10_000;
/** Characters of key and value held for a monitor while its replay runs (same consequence). */
export const MONITOR_HELD_MAX_CHARS = 8 * 1024 * 1024;
/** Replay waits at most this long for a monitor to read its backlog before disconnecting it. */
export const MONITOR_REPLAY_STALL_MS = 30_000;
/** How often a replay checks whether its monitor has read enough to continue. */
const REPLAY_POLL_MS = 5;

const log = logger("monitor");

interface Monitor {
  conn: Connection;
  regex: LinearRegex | null;
  includeSelf: boolean;
  /** Live rows that arrived during replay (null once replay is done). */
  held: NotificationRow[] | null;
  heldChars: number;
}

/** What `monitor` asked for. */
export interface MonitorRequest {
  regex?: string;
  selfNotifications?: boolean;
  epochMillis?: number;
}

/** The monitors of one server. */
export interface MonitorHub {
  /** Turns `conn` into a monitor (replay first when `epochMillis` is given). Throws AT0003 for a bad regex. */
  attach(conn: Connection, req: MonitorRequest): void;
  /** Pushes a newly stored received/self notification to matching monitors. */
  publish(row: NotificationRow): void;
  /** Pushes a stats notification (value = commit id) to every monitor. */
  publishStats(commitId: number | null, operation?: "update" | "delete"): void;
  count(): number;
  stop(): void;
}

/** The client-facing view of a stored notification (text messages included: an encrypted one needs its IV). */
export function notificationView(r: NotificationRow): NotificationView {
  const m = r.meta;
  return {
    id: r.id,
    from: r.from,
    to: r.to,
    key: r.key,
    value: r.value,
    operation: r.op,
    epochMillis: r.createdAt,
    messageType: r.messageType,
    isEncrypted: m.isEncrypted,
    metadata: {
      encKeyName: m.encKeyName,
      encAlgo: m.encAlgo,
      ivNonce: m.ivNonce,
      skeEncKeyName: m.skeEncKeyName,
      skeEncAlgo: m.skeEncAlgo,
      sharedKeyEnc: m.sharedKeyEnc,
      availableAt: m.ttb ? r.createdAt + m.ttb : null,
      expiresAt: m.ttl ? r.createdAt + m.ttl : null,
      appMetadata: m.appMetadata,
    },
  };
}

/**
 * Creates the hub; `lastCommitId` feeds the periodic stats notification.
 * @example const hub = newMonitorHub(store, () => keystore.lastCommitId(), "@alice");
 */
export function newMonitorHub(store: NotificationStore, lastCommitId: () => number | null, atSign: string): MonitorHub {
  const monitors = new Set<Monitor>();
  const encoder = new TextEncoder();

  const drop = (m: Monitor, why: string) => {
    monitors.delete(m);
    if (!m.conn.closed) {
      log.info("disconnecting monitor", { conn: m.conn.id, why });
      m.conn.abort();
    }
  };
  const write = (m: Monitor, line: string): boolean => {
    if (m.conn.closed) {
      monitors.delete(m);
      return false;
    }
    if (m.conn.queuedBytes() + encoder.encode(line).byteLength > MONITOR_BUFFER_MAX_BYTES) {
      drop(m, "its unread backlog is full");
      return false;
    }
    m.conn.write(line);
    return true;
  };
  const matches = (m: Monitor, r: NotificationRow) => {
    if (r.type === "self" && !m.includeSelf) return false;
    if (!mayReadNotification(m.conn, r)) return false;
    return m.regex === null || m.regex.test(r.key) || m.regex.test(r.from.slice(1));
  };

  const replay = async (m: Monitor, sinceMs: number) => {
    let afterSeq = 0;
    for (;;) {
      const rows = store.inbox({ sinceMs, afterSeq, includeSelf: m.includeSelf, limit: NOTIFICATION_PAGE_ROWS });
      for (const r of rows) {
        if (!monitors.has(m)) return;
        afterSeq = r.seq;
        if (!matches(m, r)) continue;
        // Pace by the backlog: wait until the client has read half of it.
        const deadline = Date.now() + MONITOR_REPLAY_STALL_MS;
        while (!m.conn.closed && m.conn.queuedBytes() > MONITOR_BUFFER_MAX_BYTES / 2) {
          if (Date.now() > deadline) return drop(m, "it does not read its replay");
          await Bun.sleep(REPLAY_POLL_MS);
        }
        if (!write(m, monitorLine(notificationJson(notificationView(r), "stored")))) return;
      }
      if (rows.length < NOTIFICATION_PAGE_ROWS) break;
    }
    const held = m.held ?? [];
    m.held = null;
    for (const r of held) if (r.seq > afterSeq && !write(m, monitorLine(notificationJson(notificationView(r), "live")))) return;
  };

  const statsTimer = setInterval(() => {
    if (monitors.size > 0) hub.publishStats(lastCommitId());
  }, STATS_NOTIFICATION_INTERVAL_MS);
  statsTimer.unref();

  const hub: MonitorHub = {
    attach(conn, req) {
      const regex = req.regex === undefined ? null : clientRegex(req.regex);
      // A second `monitor` on the same connection replaces the first (no duplicate lines).
      for (const m of monitors) if (m.conn.closed || m.conn === conn) monitors.delete(m);
      if (monitors.size >= MONITORS_MAX) throw new AtProtocolError("AT0012", `At most ${MONITORS_MAX} monitor connections per @sign`);
      const m: Monitor = { conn, regex, includeSelf: req.selfNotifications === true, held: req.epochMillis === undefined ? null : [], heldChars: 0 };
      monitors.add(m);
      if (req.epochMillis !== undefined) {
        replay(m, req.epochMillis).catch((err: unknown) => {
          log.error("monitor replay failed", { conn: conn.id, error: String(err) });
          drop(m, "replay failed");
        });
      }
    },
    publish(row) {
      let json: string | undefined;
      for (const m of monitors) {
        if (!matches(m, row)) continue;
        if (m.held) {
          m.heldChars += row.key.length + (row.value?.length ?? 0);
          if (m.held.length >= MONITOR_HELD_MAX || m.heldChars > MONITOR_HELD_MAX_CHARS) drop(m, "too many notifications arrived during its replay");
          else m.held.push(row);
          continue;
        }
        json ??= notificationJson(notificationView(row), "live");
        write(m, monitorLine(json));
      }
    },
    publishStats(commitId, operation = "update") {
      if (monitors.size === 0) return;
      const line = monitorLine(statsNotificationJson(atSign, commitId ?? -1, Date.now(), operation));
      for (const m of monitors) if (!m.held) write(m, line);
    },
    count: () => monitors.size,
    stop() {
      clearInterval(statsTimer);
      monitors.clear();
    },
  };
  return hub;
}
