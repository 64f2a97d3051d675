/**
 * AtSync: multi-device sync of one @sign through its atServer's commit log (ATPROTOCOL.md §7), with a local
 * cache per device (sync_cache.ts). Changes made offline (`put`, `delete`) are kept in the cache and pushed
 * by `sync()`; other devices' changes are pulled from `sync:from` pages.
 *
 * Conflict rule of the reference client (§7.3): a pulled entry whose key has an unpushed local change is
 * skipped (reported as a conflict) and the local change is pushed afterwards, so local wins; the server
 * itself keeps whatever write reaches it last.
 */
import { buildCommand } from "../../core/verbs/index.ts";
import type { AtClient, PutOptions } from "../at_client.ts";
import type { AtMonitor } from "../monitor/at_monitor.ts";
import { deleteLine, updateLine, type UpdateMeta } from "../data/commands.ts";
import { formatKey, parseKeyRef, wireKey } from "../data/key_name.ts";
import type { RecordMeta } from "../data/record.ts";
import type { AtValue } from "../data/value_crypto.ts";
import { openSyncCache, type CacheRow, type SyncCache } from "./sync_cache.ts";
import { latestCommitId, parseBatchReply, parseSyncPage } from "./sync_wire.ts";

/** Entries asked for per `sync:from` page (the server may send fewer). */
export const SYNC_PULL_PAGE_ENTRIES = 100;
/** Most pages pulled in one `sync()`; the next call continues where it stopped. */
export const SYNC_MAX_PAGES_PER_RUN = 10_000;
/** Local changes per `batch:` line, and the bytes of commands one batch may carry. */
export const SYNC_PUSH_BATCH_ITEMS = 100;
export const SYNC_PUSH_BATCH_BYTES = 1024 * 1024;
/** Most local changes pushed in one `sync()`. */
export const SYNC_MAX_PUSH_PER_RUN = 100_000;

/** What one `sync()` did. */
export interface SyncReport {
  /** Server entries applied to the cache. */
  pulled: number;
  /** Local changes the server accepted. */
  pushed: number;
  /** Keys changed both here (unpushed) and on the server; the local change won and was pushed. */
  conflicts: { key: string; serverCommitId: number }[];
  /** Local changes the server refused (they stay pending). */
  failed: { key: string; error: string }[];
  /** The server commit id the cache is now up to date with (-1 = nothing yet). */
  lastCommitId: number;
}

/**
 * The cache file for a device whose keys are in `keysFile`: beside it, so a second copy of the keys (a
 * second device) gets a cache of its own.
 * @example syncCachePath("/k/@alice_key.atKeys") // "/k/@alice_key.sync.sqlite"
 */
export function syncCachePath(keysFile: string): string {
  return keysFile.replace(/\.atKeys$/i, "") + ".sync.sqlite";
}

/** Regex of the monitor `watch` opens: it wants only the stats notifications, which bypass the regex. */
const STATS_ONLY_REGEX = "^$";

/** What `watch` reports. */
export interface WatchOptions {
  /** After each sync the watch ran. */
  onSync?(report: SyncReport): void;
  /** A sync that failed (the watch goes on; the next change retries). */
  onError?(error: Error): void;
}

/** A device's synchronised view of its @sign's keys. */
export class AtSync {
  private running: Promise<SyncReport> | null = null;

  private constructor(
    private readonly client: AtClient,
    private readonly cache: SyncCache,
  ) {}

  /** Opens (creating) the cache at `file` for `client`'s @sign. Nothing is sent until `sync()`. */
  static open(client: AtClient, file: string): AtSync {
    return new AtSync(client, openSyncCache(file));
  }

  /** Changes a key locally (sealed exactly as `put` would); pushed by the next `sync()`. */
  async put(key: string, value: AtValue, opts: PutOptions = {}): Promise<void> {
    const sealed = await this.client.seal(key, value, opts);
    this.cache.change(sealed.key, sealed.value, sealed.meta as RecordMeta);
  }

  /** Deletes a key locally; the delete is pushed by the next `sync()`. */
  delete(key: string): void {
    this.cache.change(this.canonical(key), null, {});
  }

  /** A cached value, decrypted (or verified); null when the cache has no such key. */
  async get(key: string): Promise<AtValue | null> {
    const row = this.cache.row(this.canonical(key));
    if (!row || row.value === null) return null;
    return this.client.open(row.key, { key: row.key, data: row.value, meta: row.meta });
  }

  /** The cached keys (as the server names them), optionally filtered by a regex. */
  keys(regex?: RegExp): string[] {
    const all = this.cache.keys();
    return regex ? all.filter((k) => regex.test(k)) : all;
  }

  /** Local changes not pushed yet. */
  pending(): number {
    return this.cache.dirtyRows(SYNC_MAX_PUSH_PER_RUN).length;
  }

  /** Pulls the server's changes, then pushes local ones. Concurrent calls share one run. */
  sync(): Promise<SyncReport> {
    this.running ??= this.run().finally(() => (this.running = null));
    return this.running;
  }

  /**
   * Keeps the cache current: syncs now, then whenever the server's stats notifications announce a commit
   * newer than the cache has. Returns the monitor; close it to stop.
   */
  watch(opts: WatchOptions = {}): AtMonitor {
    let again = false;
    const run = (): void => {
      if (this.running) {
        again = true;
        return;
      }
      this.sync().then(
        (r) => opts.onSync?.(r),
        (e: unknown) => opts.onError?.(e instanceof Error ? e : new Error(String(e))),
      ).finally(() => {
        if (again) {
          again = false;
          run();
        }
      });
    };
    const monitor = this.client.monitor({
      regex: STATS_ONLY_REGEX,
      onStats: (commitId) => {
        if (commitId !== null && commitId > this.cache.lastPulled()) run();
      },
    });
    monitor.ready.then(run, (e: Error) => opts.onError?.(e));
    return monitor;
  }

  close(): void {
    this.cache.close();
  }

  private canonical(key: string): string {
    const ref = parseKeyRef(key, this.client.atSign);
    return formatKey(ref);
  }

  private async run(): Promise<SyncReport> {
    const report: SyncReport = { pulled: 0, pushed: 0, conflicts: [], failed: [], lastCommitId: this.cache.lastPulled() };
    await this.pull(report);
    await this.push(report);
    report.lastCommitId = this.cache.lastPulled();
    return report;
  }

  private async pull(report: SyncReport): Promise<void> {
    const latest = latestCommitId(await this.client.command(buildCommand({ verb: "stats", ids: [3] })));
    let from = this.cache.lastPulled();
    for (let pages = 0; latest !== null && from < latest && pages < SYNC_MAX_PAGES_PER_RUN; pages++) {
      const page = parseSyncPage(await this.client.command(buildCommand({ verb: "syncFrom", fromCommitId: from, limit: SYNC_PULL_PAGE_ENTRIES })));
      const before = from;
      this.cache.transaction(() => {
        for (const e of page) {
          if (e.commitId <= from) continue;
          from = e.commitId;
          if (this.cache.row(e.key)?.dirty) report.conflicts.push({ key: e.key, serverCommitId: e.commitId });
          else if (e.isDelete) this.cache.settle(e.key, null, null, e.commitId);
          else if (e.value !== null) this.cache.settle(e.key, e.value, e.meta, e.commitId);
          report.pulled++;
        }
        this.cache.setLastPulled(from);
      });
      // An empty page (or one without progress) ends the pull, as in the reference client.
      if (from === before) break;
    }
  }

  private async push(report: SyncReport): Promise<void> {
    const rows = this.cache.dirtyRows(SYNC_MAX_PUSH_PER_RUN);
    for (const batch of batches(rows, (r) => this.commandFor(r))) {
      const items = batch.map((b, i) => ({ id: i + 1, command: b.command }));
      const outcomes = parseBatchReply(await this.client.command(buildCommand({ verb: "batch", items })));
      batch.forEach((b, i) => {
        const outcome = outcomes.get(i + 1);
        const current = this.cache.row(b.row.key);
        // A change made while the batch was out stays pending.
        const unchanged = current !== null && current.dirty && current.value === b.row.value;
        if (outcome?.ok || (outcome?.code === "AT0015" && b.row.value === null)) {
          if (unchanged) this.cache.settle(b.row.key, b.row.value, null, outcome.ok ? outcome.commitId : null);
          report.pushed++;
        } else {
          report.failed.push({ key: b.row.key, error: outcome ? `${outcome.code} ${outcome.message}` : "no answer in the batch reply" });
        }
      });
    }
  }

  private commandFor(row: CacheRow): string {
    const key = wireKey(parseKeyRef(row.key, this.client.atSign));
    return row.value === null ? deleteLine(key) : updateLine(key, row.value, row.meta as UpdateMeta);
  }
}

/** Groups rows into batches bounded by SYNC_PUSH_BATCH_ITEMS and SYNC_PUSH_BATCH_BYTES (a bigger one goes alone). */
function batches(rows: CacheRow[], command: (r: CacheRow) => string): { row: CacheRow; command: string }[][] {
  const out: { row: CacheRow; command: string }[][] = [];
  let current: { row: CacheRow; command: string }[] = [];
  let bytes = 0;
  for (const row of rows) {
    const c = command(row);
    if (current.length > 0 && (current.length >= SYNC_PUSH_BATCH_ITEMS || bytes + c.length > SYNC_PUSH_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ row, command: c });
    bytes += c.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}
