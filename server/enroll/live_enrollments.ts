/**
 * Which open connections authenticated with which enrollment, so that revoking an enrollment can close them
 * (including monitor connections, which are ordinary connections that ran `monitor`). Enrollment ids are
 * random UUIDs, so one registry serves every server in the process.
 */
import type { Connection } from "../connection.ts";

const byEnrollment = new Map<string, Set<Connection>>();

/** Records that `conn` authenticated with enrollment `id`. */
export function trackEnrollmentConnection(conn: Connection, id: string): void {
  let set = byEnrollment.get(id);
  if (!set) {
    set = new Set();
    byEnrollment.set(id, set);
  }
  set.add(conn);
}

/** Forgets a connection that closed (the dispatcher calls this from the listener's onClose). */
export function forgetEnrollmentConnection(conn: Connection): void {
  const id = conn.enrollmentId;
  if (id === undefined) return;
  const set = byEnrollment.get(id);
  if (!set) return;
  set.delete(conn);
  if (set.size === 0) byEnrollment.delete(id);
}

/**
 * Closes every open connection of enrollment `id` except `keep` (the one asking, which closes after its
 * answer went out). Returns how many were closed.
 */
export function closeEnrollmentConnections(id: string, keep?: Connection): number {
  const set = byEnrollment.get(id);
  if (!set) return 0;
  let n = 0;
  for (const conn of [...set]) {
    if (conn === keep) continue;
    set.delete(conn);
    if (!conn.closed) {
      // abort, not close: a monitor with a backlog it does not read must not keep the session for long.
      conn.abort();
      n++;
    }
  }
  if (set.size === 0) byEnrollment.delete(id);
  return n;
}

/** Open connections of enrollment `id` (tests and stats). */
export function enrollmentConnectionCount(id: string): number {
  return byEnrollment.get(id)?.size ?? 0;
}
