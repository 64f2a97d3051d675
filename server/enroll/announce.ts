/**
 * Tells the @sign's manager devices that an enrollment request is waiting (ATPROTOCOL.md §6.3): a `self`
 * notification with key `<eid>.new.enrollments.__manage@<me>` that monitors with selfNotifications receive.
 *
 * HOOK: the notification store and monitor hub (server/notify/**) are built by another helper. Until they
 * exist, the server keeps a list of listeners here; the hub registers one with `onEnrollmentRequest` and
 * turns the announcement into the notification. Managers that are not monitoring find requests with
 * `enroll:list` in any case.
 */
import type { ServerContext } from "../context.ts";
import type { EnrollmentRecord } from "./enrollment_store.ts";

/** Lifetime of the enrollment notification (the reference's 24 h). */
export const ENROLLMENT_NOTIFICATION_TTL_MS = 24 * 3_600_000;

/** What a listener receives: the notification key and the value JSON of §6.3. */
export interface EnrollmentAnnouncement {
  atSign: string;
  key: string;
  value: string;
  ttlMs: number;
}

type Listener = (ctx: ServerContext, a: EnrollmentAnnouncement) => void;

/** Listeners per server context (one server's announcements never reach another's monitors). */
const listeners = new WeakMap<ServerContext, Listener[]>();
/** Listeners for every server (a hub that is one per process). */
const globalListeners: Listener[] = [];

/** Registers a listener for enrollment requests, for one server or (ctx null) for all. */
export function onEnrollmentRequest(ctx: ServerContext | null, listener: Listener): void {
  if (ctx === null) globalListeners.push(listener);
  else listeners.set(ctx, [...(listeners.get(ctx) ?? []), listener]);
}

/** Announces a new pending request to the registered listeners. */
export function announceEnrollmentRequest(ctx: ServerContext, key: string, record: EnrollmentRecord): void {
  const value = JSON.stringify({
    encryptedApkamSymmetricKey: record.encryptedAPKAMSymmetricKey,
    encryptedAPKAMSymmetricKey: record.encryptedAPKAMSymmetricKey,
    appName: record.appName,
    deviceName: record.deviceName,
    namespace: record.namespaces,
  });
  const a: EnrollmentAnnouncement = { atSign: ctx.atSign, key, value, ttlMs: ENROLLMENT_NOTIFICATION_TTL_MS };
  for (const l of [...globalListeners, ...(listeners.get(ctx) ?? [])]) l(ctx, a);
}
