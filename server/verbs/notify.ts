/**
 * `notify`, `notify:all`, `notify:status`, `notify:list`, `notify:fetch`, `notify:remove` (ATPROTOCOL.md §5.9,
 * §5.10). `notify` from the owner sends; on a pol-authenticated connection it is another server delivering
 * to us. `notify:list` lists received notifications for the owner and, over pol, what we sent to the caller.
 * An APKAM connection lists, fetches and asks the status of only the notifications its enrollment may read.
 */
import {
  notificationListJson,
  notifyFetchJson,
  notifyFetchMissingJson,
  type AtMetadata,
  type NotificationView,
} from "../../core/verbs/index.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import type { ServerContext } from "../context.ts";
import { clientRegex } from "../key_policy.ts";
import { notificationView } from "../notify/monitor_hub.ts";
import { mayReadNotification } from "../notify/notification_access.ts";
import { NOTIFICATION_PAGE_ROWS, type NotificationRow, type NotificationStatus } from "../notify/notification_store.ts";
import { assertGateSends, receiveNotification, sendNotification } from "../notify/notify_service.ts";
import { isAllowListed } from "./config.ts";
import { data, type HandlerTable } from "./handler.ts";

/** Most notifications one `notify:list` answer holds (the answer must stay within a client's read buffer). */
export const NOTIFY_LIST_MAX_ROWS = 20_000;
/** Most recipients of one `notify:all`. */
export const NOTIFY_ALL_MAX_RECIPIENTS = 100;

const DAY_MS = 24 * 60 * 60_000;

function store(ctx: ServerContext) {
  if (!ctx.notify) throw new AtProtocolError("AT0010", "Notifications are not available on this server");
  return ctx.notify.store;
}

/** `yyyy-m-d` (the grammar allows missing digits) → epoch ms of 00:00 UTC that day. */
function dayStart(text: string): number {
  const [y, m, d] = text.split("-").map((p) => Number(p || "1"));
  const t = Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1);
  if (!Number.isFinite(t)) throw new AtProtocolError("AT0022", `Illegal arguments: ${text} is not a date`);
  return t;
}

function statusOf(r: NotificationRow, now = Date.now()): NotificationStatus {
  return now >= r.expiresAt ? "expired" : r.status;
}

/** Handlers of the notify family. */
export const notifyHandlers: HandlerTable = {
  notify(ctx, conn, cmd) {
    if (conn.state.auth === "pol") {
      receiveNotification(ctx, conn.state.atSign, cmd, isAllowListed(ctx, conn.state.atSign));
      return data("success");
    }
    return data(sendNotification(ctx, cmd));
  },
  notifyAll(ctx, conn, cmd) {
    // The reference's grammar table says "no auth", but sending as this @sign is the owner's business.
    if (conn.state.auth !== "owner") throw new AtProtocolError("AT0401", "Command cannot be executed without auth");
    if (cmd.recipients.length > NOTIFY_ALL_MAX_RECIPIENTS) throw new AtProtocolError("AT0022", `notify:all takes at most ${NOTIFY_ALL_MAX_RECIPIENTS} recipients`);
    const ids: Record<string, string> = {};
    const metadata = { ttl: cmd.ttl, ttb: cmd.ttb, ttr: cmd.ttr, ccd: cmd.ccd };
    for (const to of cmd.recipients) assertGateSends(ctx, to, { messageType: cmd.messageType ?? "key", key: cmd.atKey });
    for (const to of cmd.recipients) {
      const forAtSign = to.startsWith("@") ? to : `@${to}`;
      ids[forAtSign] = sendNotification(ctx, {
        verb: "notify",
        operation: cmd.operation,
        messageType: cmd.messageType,
        metadata,
        forAtSign,
        atKey: cmd.atKey,
        atSign: cmd.atSign,
        value: cmd.value,
      });
    }
    return { kind: "dataSpace", payload: JSON.stringify(ids) };
  },
  notifyStatus(ctx, conn, cmd) {
    const rows = store(ctx).byId(cmd.id);
    const r = rows.find((x) => x.type === "sent") ?? rows[0];
    return data(r && mayReadNotification(conn, r) ? statusOf(r) : null);
  },
  notifyList(ctx, conn, cmd) {
    const s = store(ctx);
    const now = Date.now();
    if (conn.state.auth === "pol") {
      return data(notificationListJson(s.sentTo(conn.state.atSign, NOTIFY_LIST_MAX_ROWS, now).map(notificationView)));
    }
    const from = cmd.fromDate === undefined ? 0 : dayStart(cmd.fromDate);
    const to = cmd.toDate === undefined ? Infinity : dayStart(cmd.toDate) + DAY_MS;
    const re = cmd.regex === undefined ? null : clientRegex(cmd.regex);
    const out: NotificationView[] = [];
    let afterSeq = 0;
    for (;;) {
      const rows = s.inbox({ sinceMs: from - 1, afterSeq, includeSelf: false, limit: NOTIFICATION_PAGE_ROWS, now });
      for (const r of rows) {
        afterSeq = r.seq;
        if (r.createdAt >= to || !mayReadNotification(conn, r) || (re && !re.test(r.key) && !re.test(r.from.slice(1)))) continue;
        out.push(notificationView(r));
        if (out.length >= NOTIFY_LIST_MAX_ROWS) return data(notificationListJson(out));
      }
      if (rows.length < NOTIFICATION_PAGE_ROWS) break;
    }
    return data(notificationListJson(out));
  },
  notifyFetch(ctx, conn, cmd) {
    const r = store(ctx).byId(cmd.id)[0];
    // One the enrollment may not read is answered like an unknown id: its existence is not theirs to learn.
    if (!r || !mayReadNotification(conn, r)) return data(notifyFetchMissingJson(cmd.id));
    return data(
      notifyFetchJson({
        id: r.id,
        fromAtSign: r.from,
        notificationDateTime: r.createdAt,
        toAtSign: r.to,
        notification: r.key,
        type: r.type,
        opType: r.op,
        messageType: r.messageType,
        priority: r.priority,
        notificationStatus: statusOf(r),
        retryCount: r.attempts,
        strategy: r.strategy,
        depth: 1,
        notifier: r.notifier,
        expiresAt: r.expiresAt,
        atValue: r.value,
        atMetadata: r.meta as AtMetadata,
        ttl: r.ttln,
      }),
    );
  },
  notifyRemove(ctx, _conn, cmd) {
    store(ctx).remove(cmd.id);
    return data("success");
  },
};
