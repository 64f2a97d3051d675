/**
 * The `stats` response body (ATPROTOCOL.md §5.13).
 */

/** Names of the reference's stat ids. */
export const STAT_NAMES: Readonly<Record<number, string>> = {
  1: "activeInboundConnections",
  2: "activeOutboundConnections",
  3: "lastCommitID",
  4: "secondaryStorageSize",
  5: "topAtSigns",
  6: "topKeys",
  7: "secondaryServerVersion",
  8: "LastLoggedInDatetime",
  9: "diskSize",
  10: "LastPkam",
  11: "NotificationCount",
  12: "CommitLogCompactionStats",
  13: "AccessLogCompactionStats",
  14: "NotificationCompactionStats",
  15: "LatestCommitEntryOfEachKey",
  16: "activeInboundConnectionsSummary",
  17: "activeInboundConnectionsDetailed",
};

/** One stat to report; `value` is written as JSON (the reference sends lastCommitID as a string). */
export interface StatItem {
  id: number;
  name: string;
  value: unknown;
}

/**
 * The stats list as the reference writes it: a Dart list `toString()` of JSON objects, so items are separated
 * by `, ` (still valid JSON). Ids are strings. Send it with `dataSpaceResponse`.
 * @example statsJson([{ id: 3, name: "lastCommitID", value: "42" }]) // '[{"id":"3","name":"lastCommitID","value":"42"}]'
 */
export function statsJson(items: readonly StatItem[]): string {
  return `[${items.map((i) => JSON.stringify({ id: String(i.id), name: i.name, value: i.value ?? null })).join(", ")}]`;
}
