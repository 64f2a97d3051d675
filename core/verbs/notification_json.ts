/**
 * Notification JSON on the wire (ATPROTOCOL.md §6.3, §5.10): the monitor line, its stored/replayed variant,
 * the stats notification, and the `notify:fetch` body.
 */
import { dartDate } from "../wire/dart_date.ts";
import { metadataObject, type AtMetadata, type MetadataValue } from "./metadata_json.ts";

/** Encryption metadata carried by a notification; absent or null fields are written as JSON null. */
export interface NotificationMetadata {
  encKeyName?: string | null;
  encAlgo?: string | null;
  ivNonce?: string | null;
  skeEncKeyName?: string | null;
  skeEncAlgo?: string | null;
  sharedKeyEnc?: string | null;
  availableAt?: number | null;
  expiresAt?: number | null;
  /** at_server 3.14: delivered as `metadata.appMetadata` when the notification carries one. */
  appMetadata?: string | null;
}

/** What a client sees of one notification. */
export interface NotificationView {
  id: string;
  from: string;
  to: string;
  key: string;
  value: string | null;
  operation: "update" | "delete";
  epochMillis: number;
  messageType: "key" | "text";
  isEncrypted: boolean;
  metadata: NotificationMetadata | null;
}

/**
 * `live` = pushed to monitors as it arrives (metadata ends with sharedKeyEnc); `stored` = replayed by
 * `monitor:<epochMillis>` and listed by `notify:list` (metadata ends with availableAt/expiresAt as Dart
 * `toString()` strings, `"null"` when unset, and has no sharedKeyEnc).
 */
export type NotificationVariant = "live" | "stored";

/**
 * The notification JSON in the reference field order.
 * @example notificationJson({ id: "n1", from: "@a", to: "@b", key: "@b:k@a", value: null, operation: "update",
 *   epochMillis: 1, messageType: "key", isEncrypted: false, metadata: null }, "live")
 */
export function notificationJson(n: NotificationView, variant: NotificationVariant): string {
  return JSON.stringify(notificationObject(n, variant));
}

function notificationObject(n: NotificationView, variant: NotificationVariant): Record<string, unknown> {
  const m = n.metadata;
  const metadata =
    m === null
      ? null
      : {
          encKeyName: m.encKeyName ?? null,
          encAlgo: m.encAlgo ?? null,
          ivNonce: m.ivNonce ?? null,
          skeEncKeyName: m.skeEncKeyName ?? null,
          skeEncAlgo: m.skeEncAlgo ?? null,
          ...(variant === "live"
            ? { sharedKeyEnc: m.sharedKeyEnc ?? null }
            : { availableAt: dartDateOrNull(m.availableAt), expiresAt: dartDateOrNull(m.expiresAt) }),
          ...(m.appMetadata ? { appMetadata: m.appMetadata } : {}),
        };
  return {
    id: n.id,
    from: n.from,
    to: n.to,
    key: n.key,
    value: n.value,
    operation: n.operation,
    epochMillis: n.epochMillis,
    messageType: `MessageType.${n.messageType}`,
    isEncrypted: n.isEncrypted,
    metadata,
  };
}

function dartDateOrNull(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "null" : dartDate(ms);
}

/**
 * The line written to a monitor connection: `notification: <json>\n` (note the space).
 * @example monitorLine("{}") // "notification: {}\n"
 */
export function monitorLine(json: string): string {
  return `notification: ${json}\n`;
}

/**
 * The stats notification pushed to monitors (id `-1`, key `statsNotification.<atSign>`, value = commit id).
 * @example statsNotificationJson("@alice", 42, 1700000000000)
 *   // '{"id":"-1","from":"@alice","to":"@alice","key":"statsNotification.@alice","value":"42",...,"metadata":null}'
 */
export function statsNotificationJson(
  atSign: string,
  commitId: number,
  epochMillis: number,
  operation: "update" | "delete" = "update",
): string {
  return notificationJson(
    {
      id: "-1",
      from: atSign,
      to: atSign,
      key: `statsNotification.${atSign}`,
      value: String(commitId),
      operation,
      epochMillis,
      messageType: "key",
      isEncrypted: false,
      metadata: null,
    },
    "live",
  );
}

/**
 * The JSON array of `notify:list` (stored variant), or null when empty (the reference answers `data:null`).
 * @example notificationListJson([]) // null
 */
export function notificationListJson(items: readonly NotificationView[]): string | null {
  return items.length === 0 ? null : JSON.stringify(items.map((n) => notificationObject(n, "stored")));
}

/** A stored notification as `notify:fetch` reports it. */
export interface StoredNotification {
  id: string;
  fromAtSign: string;
  notificationDateTime: number;
  toAtSign: string;
  notification: string;
  type: "sent" | "received" | "self";
  opType: "update" | "delete";
  messageType: "key" | "text";
  priority: "low" | "medium" | "high";
  notificationStatus: "delivered" | "errored" | "queued" | "expired";
  retryCount: number;
  strategy: string;
  depth: number;
  notifier: string;
  expiresAt: number | null;
  atValue: string | null;
  atMetadata: AtMetadata | null;
  ttl: number | null;
}

/**
 * The `notify:fetch` body: every non-string value as its Dart `toString()` (enums as `Type.value`, null as
 * `"null"`), and atMetadata as a Dart Map `toString()` (`{ttl: 5, isEncrypted: true}`) with nulls removed.
 * @example notifyFetchJson(stored) // '{"id":"n1","fromAtSign":"@a",...,"type":"NotificationType.received",...}'
 */
export function notifyFetchJson(n: StoredNotification): string {
  const str = (v: string | number | null) => (v === null ? "null" : String(v));
  const meta = n.atMetadata === null ? "null" : dartMapString(metadataObject(n.atMetadata, true));
  return JSON.stringify({
    id: n.id,
    fromAtSign: n.fromAtSign,
    notificationDateTime: dartDate(n.notificationDateTime),
    toAtSign: n.toAtSign,
    notification: n.notification,
    type: `NotificationType.${n.type}`,
    opType: `OperationType.${n.opType}`,
    messageType: `MessageType.${n.messageType}`,
    priority: `NotificationPriority.${n.priority}`,
    notificationStatus: `NotificationStatus.${n.notificationStatus}`,
    retryCount: str(n.retryCount),
    strategy: n.strategy,
    depth: str(n.depth),
    notifier: n.notifier,
    expiresAt: n.expiresAt === null ? "null" : dartDate(n.expiresAt),
    atValue: str(n.atValue),
    atMetadata: meta,
    ttl: str(n.ttl),
  });
}

/**
 * The `notify:fetch` body for an unknown id.
 * @example notifyFetchMissingJson("n1") // '{"id":"n1","notificationStatus":"NotificationStatus.expired"}'
 */
export function notifyFetchMissingJson(id: string): string {
  return JSON.stringify({ id, notificationStatus: "NotificationStatus.expired" });
}

function dartMapString(o: Record<string, MetadataValue>): string {
  return `{${Object.entries(o)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ")}}`;
}
