/**
 * Which notifications a connection may see (ATPROTOCOL.md §8.4): an APKAM connection those whose key its
 * enrollment may read — an app enrolled for `wavi:r` gets the notifications about `*.wavi` keys and no others,
 * as the reference's monitor decides per notification. Connections without an enrollment see all of them.
 * Monitors, notify:list, notify:status and notify:fetch all ask here.
 */
import type { Connection } from "../connection.ts";
import { grantsOf, mayAccessKey } from "../enroll/grants.ts";
import type { NotificationRow } from "./notification_store.ts";

/**
 * Whether `conn` may see the notification `row` (its key read with the connection's grants, at this moment).
 * @example mayReadNotification(wavi, row) // true for "@bob:phone.wavi@alice", false for "@bob:x.buzz@alice"
 */
export function mayReadNotification(conn: Connection, row: Pick<NotificationRow, "key">): boolean {
  return conn.enrollmentId === undefined || mayAccessKey(grantsOf(conn), row.key, "r", conn.enrollmentId);
}
