/**
 * `sync:from` and `stats` (ATPROTOCOL.md §5.12, §5.13, §7): commit log pages and server metrics.
 */
import { STAT_NAMES, statsJson, syncEntryJson, type StatItem } from "../../core/verbs/index.ts";
import { SYNC_PAGE_DEFAULT_ENTRIES, SYNC_PAGE_MAX_BYTES, dartDate } from "../../core/wire/index.ts";
import type { Connection } from "../connection.ts";
import type { ServerContext } from "../context.ts";
import { inboundStats } from "../inbound_connections.ts";
import { atMetadata } from "../format.ts";
import { alwaysSyncs } from "../../core/keys/index.ts";
import { grantsOf, mayAccessKey } from "../enroll/grants.ts";
import { clientRegex } from "../key_policy.ts";
import type { CommitEntry } from "../store/keystore.ts";
import { data, type HandlerTable } from "./handler.ts";

/**
 * The version `info` and stats:7 report: the newest reference release whose verb grammar Inlay takes whole
 * (its CHANGELOG, release by release). 3.15.0: to:, enroll:listns, enrollment metadata. 3.16.0: enroll:update
 * with apkamPublicKeySignature, the client's apsk, the augmented (verifier-bound `pol1.`) pol challenge.
 * 3.16.1: apskLegacy. 3.16.3: cAt/uAt/eAt/aAt, :nc, delete:dAt, scan:cl. Not in any release yet, so no bar:
 * notify's eAtn and eph. Taken but not whole in effect: signingAlgo mldsa65 parses and fails verification
 * (server/enroll/README.md); transports and events are not grammar (server/README.md lists what differs).
 */
export const COMPATIBLE_SERVER_VERSION = "3.16.3";
/** Commit entries read from sqlite per round while filling a sync page. */
const SYNC_SCAN_BATCH = 256;

const encoder = new TextEncoder();

/** The JSON of a commit entry, or null when a non-delete entry's key is gone (the reference skips those). */
function syncEntry(ctx: ServerContext, c: CommitEntry): string | null {
  if (c.op === "-") return syncEntryJson({ atKey: c.key, value: null, metadata: null, commitId: c.id, operation: c.op });
  const r = ctx.keystore.get(c.key);
  if (!r) return null;
  return syncEntryJson({ atKey: c.key, value: r.value, metadata: atMetadata(r.meta), commitId: c.id, operation: c.op });
}

/**
 * The highest commit id among keys matching `regex` (plus the always-synced ones), or null. An APKAM app's
 * regex only meets keys it may read, as in sync:from: else the answer tells it which other keys exist.
 */
function lastCommitIdMatching(ctx: ServerContext, conn: Connection, regex: string | undefined): number | null {
  if (regex === undefined) return ctx.keystore.lastCommitId();
  const re = clientRegex(regex);
  const grants = grantsOf(conn);
  for (const c of ctx.keystore.commitsNewestFirst()) {
    if (!mayAccessKey(grants, c.key, "r", conn.enrollmentId)) continue;
    if (re.test(c.key) || alwaysSyncs(c.key)) return c.id;
  }
  return null;
}

function statValue(ctx: ServerContext, conn: Connection, id: number, regex: string | undefined): unknown {
  const at = (t: number | undefined) => (t === undefined ? null : dartDate(t));
  switch (id) {
    case 1: return ctx.connectionCount();
    case 2: return 0;
    case 3: return String(lastCommitIdMatching(ctx, conn, regex));
    case 4: case 9: return ctx.keystore.sizeBytes();
    case 7: return COMPATIBLE_SERVER_VERSION;
    case 8: return at(ctx.lastLoginAt);
    case 10: return at(ctx.lastPkamAt);
    case 11: return 0;
    case 15: {
      const re = regex === undefined ? null : clientRegex(regex);
      const latest: Record<string, unknown> = {};
      for (const c of ctx.keystore.allCommits()) if (!re || re.test(c.key)) latest[c.key] = [c.id, c.op];
      return latest;
    }
    case 16: return inboundStats(ctx, false);
    case 17: return inboundStats(ctx, true);
    default: return {};
  }
}

/** Ids `stats` without ids reports (the cheap ones; 15 lists every key and must be asked for). */
const DEFAULT_STATS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];

/** Handlers of the sync family. */
export const syncHandlers: HandlerTable = {
  syncFrom(ctx, conn, cmd) {
    const grants = grantsOf(conn);
    const re = cmd.regex === undefined ? null : clientRegex(cmd.regex);
    const page: string[] = [];
    let bytes = 2;
    let from = cmd.fromCommitId + 1;
    for (;;) {
      const batch = ctx.keystore.commitsFrom(from, SYNC_SCAN_BATCH);
      for (const c of batch) {
        if (!mayAccessKey(grants, c.key, "r", conn.enrollmentId)) continue; // before the regex: an app's regex never sees keys it may not read
        if (re && !re.test(c.key) && !alwaysSyncs(c.key)) continue;
        if (c.op === "-" && cmd.skipDeletesUntil !== undefined && c.id < cmd.skipDeletesUntil) continue;
        const json = syncEntry(ctx, c);
        if (json === null) continue;
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
  stats(ctx, conn, cmd) {
    const ids = cmd.ids ?? DEFAULT_STATS;
    const items: StatItem[] = [];
    for (const id of ids) {
      const name = STAT_NAMES[id];
      if (name !== undefined) items.push({ id, name, value: statValue(ctx, conn, id, cmd.regex) });
    }
    return { kind: "dataSpace", payload: statsJson(items) };
  },
};
