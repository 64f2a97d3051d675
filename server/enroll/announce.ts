/**
 * Tells the @sign's manager devices that an enrollment request is waiting (ATPROTOCOL.md §6.3): a `self`
 * notification with key `<eid>.new.enrollments.__manage@<me>`, stored like any other (so a monitor that
 * reconnects with `monitor:selfNotifications:<epochMillis>` gets it by replay) and pushed to the monitors
 * that asked for self notifications. Managers that are not monitoring find requests with `enroll:list`.
 */
import type { ServerContext } from "../context.ts";
import type { EnrollmentRecord } from "./enrollment_store.ts";

/** Lifetime of the enrollment notification (the reference's 24 h). */
export const ENROLLMENT_NOTIFICATION_TTL_MS = 24 * 3_600_000;

/** Stores and pushes the notification of a new pending request `key` (a no-op without notifications). */
export function announceEnrollmentRequest(ctx: ServerContext, key: string, record: EnrollmentRecord, now = Date.now()): void {
  const notify = ctx.notify;
  if (!notify) return;
  const value = JSON.stringify({
    encryptedApkamSymmetricKey: record.encryptedAPKAMSymmetricKey,
    encryptedAPKAMSymmetricKey: record.encryptedAPKAMSymmetricKey,
    appName: record.appName,
    deviceName: record.deviceName,
    namespace: record.namespaces,
  });
  const { row, inserted } = notify.store.insert({
    id: crypto.randomUUID(),
    type: "self",
    from: ctx.atSign,
    to: ctx.atSign,
    key,
    value,
    op: "update",
    messageType: "key",
    priority: "low",
    strategy: "all",
    latestN: 1,
    notifier: "SYSTEM",
    status: "delivered",
    createdAt: now,
    expiresAt: now + ENROLLMENT_NOTIFICATION_TTL_MS,
    ttln: ENROLLMENT_NOTIFICATION_TTL_MS,
    meta: { isEncrypted: false },
  });
  if (inserted) notify.hub.publish(row);
}
