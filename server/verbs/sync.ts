/**
 * `sync:from` and `stats` (ATPROTOCOL.md §5.12, §5.13, §7): commit log pages and server metrics.
 */
import { SYNC_PAGE_DEFAULT_ENTRIES, SYNC_PAGE_MAX_BYTES, dartDate } from "../../core/wire/index.ts";
import type { ServerContext } from "../context.ts";
import { metadataObject } from "../format.ts";
import { clientRegex, isAlwaysSynced } from "../key_policy.ts";
import type { CommitEntry } from "../store/keystore.ts";
import { data, type HandlerTable } from "./handler.ts";

/** Version string `info` and stats report: the reference release whose wire behaviour we follow. */
export const COMPATIBLE_SERVER_VERSION = "3.0.52";
/** Commit entries read from sqlite per round while filling a sync page. */
const SYNC_SCAN_BATCH = 256;

const encoder = new TextEncoder();

function syncEntry(ctx: ServerContext, c: CommitEntry): Record<string, unknown> | null {
  if (c.op === "-") return { atKey: c.key, value: null, metadata: null, commitId: c.id, operation: c.op };
  const r = ctx.keystore.get(c.key);
  if (!r) return null;
  // Sync metadata values are Dart toString() forms: every value a string.
  const metadata = Object.fromEntries(Object.entries(metadataObject(r.meta)).map(([k, v]) => [k, String(v)]));
  return { atKey: c.key, value: r.value, metadata, commitId: c.id, operation: c.op };
}

/** The highest commit id among keys matching `regex` (plus the always-synced ones), or null. */
function lastCommitIdMatching(ctx: ServerContext, regex: string | undefined): number | null {
  if (regex === undefined) return ctx.keystore.lastCommitId();
  const re = clientRegex(regex);
  let last: number | null = null;
  for (const c of ctx.keystore.allCommits()) if (re.test(c.key) || isAlwaysSynced(c.key)) last = c.id;
  return last;
}

function stat(ctx: ServerContext, id: number, regex: string | undefined): { id: string; name: string; value: unknown } | null {
  const at = (t: number | undefined) => (t === undefined ? null : dartDate(t));
  switch (id) {
    case 1: return { id: "1", name: "activeInboundConnections", value: ctx.connectionCount() };
    case 2: return { id: "2", name: "activeOutboundConnections", value: 0 };
    case 3: return { id: "3", name: "lastCommitID", value: String(lastCommitIdMatching(ctx, regex)) };
    case 4: return { id: "4", name: "secondaryStorageSize", value: ctx.keystore.sizeBytes() };
    case 5: return { id: "5", name: "topAtSigns", value: {} };
    case 6: return { id: "6", name: "topKeys", value: {} };
    case 7: return { id: "7", name: "secondaryServerVersion", value: COMPATIBLE_SERVER_VERSION };
    case 8: return { id: "8", name: "LastLoggedInDatetime", value: at(ctx.lastLoginAt) };
    case 9: return { id: "9", name: "diskSize", value: ctx.keystore.sizeBytes() };
    case 10: return { id: "10", name: "LastPkam", value: at(ctx.lastPkamAt) };
    case 11: return { id: "11", name: "NotificationCount", value: 0 };
    case 12: return { id: "12", name: "CommitLogCompactionStats", value: {} };
    case 13: return { id: "13", name: "AccessLogCompactionStats", value: {} };
    case 14: return { id: "14", name: "NotificationCompactionStats", value: {} };
    case 15: {
      const re = regex === undefined ? null : clientRegex(regex);
      const latest: Record<string, unknown> = {};
      for (const c of ctx.keystore.allCommits()) if (!re || re.test(c.key)) latest[c.key] = [c.id, c.op];
      return { id: "15", name: "LatestCommitEntryOfEachKey", value: latest };
    }
    default: return null;
  }
}

/** Ids `stats` without ids reports (the cheap ones; 15 lists every key and must be asked for). */
const DEFAULT_STATS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];

/** Handlers of the sync family. */
export const syncHandlers: HandlerTable = {
  syncFrom(ctx, _conn, cmd) {
    const re = cmd.regex === undefined ? null : clientRegex(cmd.regex);
    const page: string[] = [];
    let bytes = 2;
    let from = cmd.fromCommitId + 1;
    for (;;) {
      const batch = ctx.keystore.commitsFrom(from, SYNC_SCAN_BATCH);
      for (const c of batch) {
        if (re && !re.test(c.key) && !isAlwaysSynced(c.key)) continue;
        const entry = syncEntry(ctx, c);
        if (!entry) continue;
        const json = JSON.stringify(entry);
        const size = encoder.encode(json).byteLength + 1;
        if (page.length > 0 && bytes + size > SYNC_PAGE_MAX_BYTES) return data(`[${page.join(",")}]`);
        page.push(json);
        bytes += size;
        if (page.length >= SYNC_PAGE_DEFAULT_ENTRIES) return data(`[${page.join(",")}]`);
      }
      if (batch.length < SYNC_SCAN_BATCH) break;
      from = batch[batch.length - 1]!.id + 1;
    }
    return data(`[${page.join(",")}]`);
  },
  stats(ctx, _conn, cmd) {
    const ids = cmd.ids ?? DEFAULT_STATS;
    const items = ids.map((id) => stat(ctx, id, cmd.regex)).filter((x) => x !== null);
    // The reference prints a Dart list: JSON objects joined by ", ".
    return { kind: "dataSpace", payload: `[${items.map((i) => JSON.stringify(i)).join(", ")}]` };
  },
};
