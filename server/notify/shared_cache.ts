/**
 * `cached:` copies of data other @signs shared with us (ATPROTOCOL.md §3.2, §5.7, §6.2):
 * - a received `update` notification with ttr and a value creates/refreshes `cached:@me:<k>@other`; with ttr
 *   and no value it refreshes the metadata of an existing copy; a `delete` notification removes the copy when
 *   its ccd (cascade delete) is true;
 * - an owner's `lookup:<k>@other` uses a fresh copy (ttr -1, or before refreshAt) or asks @other's server with
 *   `lookup:all:<k>@other` over the pol-authenticated pool, caching the answer when the remote's ttr says so.
 */
import type { LookupOperation } from "../../core/verbs/command.ts";
import { checkKeyLength } from "../../core/keys/index.ts";
import { metadataFieldsOf } from "../../core/verbs/index.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import type { ServerContext } from "../context.ts";
import { cachedMetaFromRemote, lookupAnswer, remoteAnswer } from "../format.ts";
import { isActive, isoMillis } from "../metadata.ts";
import type { StoredMeta, StoredRecord } from "../store/keystore.ts";
import type { Reply } from "../verbs/handler.ts";
import type { NotificationRow } from "./notification_store.ts";

/** Deadline of a remote shared lookup (the reference's lookup timeout). */
export const SHARED_LOOKUP_TIMEOUT_MS = 5_000;

// What the cached copy keeps of the sender's metadata: every text field of the one table but the status the
// reference never stores, and the appMetadata its reader needs.
const ENCRYPTION_FIELDS = [...metadataFieldsOf("text").filter((f) => f !== "sharedKeyStatus"), ...metadataFieldsOf("appMetadata")];

const originTime = (text: string | null | undefined): number | undefined => (text == null ? undefined : (isoMillis(text) ?? undefined));

/** The cached key a received key notification would write, or null when it caches nothing. */
export function cacheKeyFor(row: Pick<NotificationRow, "messageType" | "key">): string | null {
  if (row.messageType !== "key" || row.key.startsWith("public:")) return null;
  return `cached:${row.key}`;
}

/** Checks before storing a received notification: its cached key must fit (AT0016 otherwise). */
export function checkCacheable(row: Pick<NotificationRow, "messageType" | "key" | "meta">): void {
  const key = cacheKeyFor(row);
  if (key !== null && row.meta.ttr != null) checkKeyLength(key);
}

/**
 * Applies a newly received notification to our cached copy. Returns the commit id when the keystore changed
 * (a stats notification follows), else null.
 */
export function applyNotificationToCache(ctx: ServerContext, row: NotificationRow): { commitId: number; op: "update" | "delete" } | null {
  const key = cacheKeyFor(row);
  if (key === null) return null;
  const old = ctx.keystore.get(key);
  if (row.op === "delete") {
    if (!old || old.meta.ccd !== true) return null;
    // A sender's asserted deletion time (`:dAt`, carried as uAt) is the delete entry's time here too.
    const opTime = originTime(row.meta.uAt);
    return { commitId: ctx.keystore.remove(key, opTime === undefined ? {} : { opTime }), op: "delete" };
  }
  const ttr = row.meta.ttr;
  if (ttr == null || (row.value === null && !old)) return null;
  const now = Date.now();
  // A 3.16.3 sender carries the origin's times; the cached copy keeps them (a bad one reads as absent).
  const meta: StoredMeta = {
    createdBy: row.from,
    updatedBy: row.from,
    createdAt: originTime(row.meta.cAt) ?? old?.meta.createdAt ?? now,
    updatedAt: originTime(row.meta.uAt) ?? now,
    version: old ? old.meta.version + 1 : 0,
    ttr,
    ccd: row.meta.ccd ?? false,
    isEncrypted: row.meta.isEncrypted,
  };
  if (ttr > 0) meta.refreshAt = now + ttr * 1000;
  for (const f of ENCRYPTION_FIELDS) {
    const v = row.meta[f];
    if (typeof v === "string") meta[f] = v;
  }
  const record: StoredRecord = { key, value: row.value ?? old?.value ?? null, meta };
  return { commitId: ctx.keystore.put(record, row.value === null ? "#" : "*"), op: "update" };
}

/** Fresh when ttr is -1 or the refresh time is still ahead. */
function isFresh(r: StoredRecord, now = Date.now()): boolean {
  return isActive(r.meta, now) && (r.meta.ttr === -1 || (r.meta.refreshAt !== undefined && now <= r.meta.refreshAt));
}

const notFound = (key: string) => new AtProtocolError("AT0015", `${key} does not exist in keystore`);

/**
 * The owner's `lookup:<name>@<other>`: from the cached copy when fresh, else from @other's server over pol.
 * @example await lookupSharedOfOther(ctx, { atSign: "@bob", name: "phone", cacheKey: "cached:@alice:phone@bob" }, undefined, false)
 */
export async function lookupSharedOfOther(
  ctx: ServerContext,
  target: { atSign: string; name: string; cacheKey: string },
  operation: LookupOperation | undefined,
  bypassCache: boolean,
): Promise<Reply> {
  const cached = ctx.keystore.get(target.cacheKey);
  if (cached && !bypassCache && isFresh(cached)) return { kind: "data", payload: lookupAnswer(operation, cached) };
  const svc = ctx.notify;
  if (!svc) throw new AtProtocolError("AT0021", `Unable to connect to secondary: this server cannot reach ${target.atSign}`);
  const answer = await svc.pool.request(target.atSign, `lookup:all:${target.name}${target.atSign}`, SHARED_LOOKUP_TIMEOUT_MS);
  const sharedKey = `${ctx.atSign}:${target.name}${target.atSign}`;
  if (answer.kind === "error") {
    if (answer.code !== "AT0015") throw new AtProtocolError("AT0021", `${target.atSign} answered ${answer.code}: ${answer.description}`);
    if (cached) ctx.keystore.remove(target.cacheKey);
    throw notFound(sharedKey);
  }
  if (answer.payload === "null") return { kind: "data", payload: null };
  let remote: { key: string; data: string | null; metaData: Record<string, unknown> };
  try {
    const parsed = JSON.parse(answer.payload) as { key?: unknown; data?: unknown; metaData?: unknown };
    remote = {
      key: typeof parsed.key === "string" ? parsed.key : sharedKey,
      data: typeof parsed.data === "string" ? parsed.data : null,
      metaData: typeof parsed.metaData === "object" && parsed.metaData !== null ? (parsed.metaData as Record<string, unknown>) : {},
    };
  } catch {
    throw new AtProtocolError("AT0021", `${target.atSign} sent a malformed record`);
  }
  const ttr = Number(remote.metaData.ttr);
  if (ttr === -1 || ttr > 0) {
    const meta = cachedMetaFromRemote(remote.metaData, ctx.atSign, cached?.meta ?? null, false);
    if (meta) {
      ctx.keystore.put({ key: target.cacheKey, value: remote.data, meta }, "*");
      if (meta.expiresAt !== undefined) ctx.expiryChanged(meta.expiresAt);
    }
  } else if (cached) {
    // The owner no longer asks for caching.
    ctx.keystore.remove(target.cacheKey);
  }
  return { kind: "data", payload: remoteAnswer(operation, sharedKey, remote) };
}
