/**
 * The notification side of one atServer: the store, the monitors, the outbound pool and the delivery job,
 * and the two entry points — a notification our owner sends (ATPROTOCOL.md §5.9 sender) and one another
 * server delivers to us (§6.2).
 */
import { join } from "node:path";
import { normalizeAtSign } from "../../core/atsign.ts";
import type { CommandOf, MetadataPatch } from "../../core/verbs/command.ts";
import { formatMetadataPatch } from "../../core/verbs/metadata_patch.ts";
import { AtProtocolError, MAX_REQUEST_BYTES } from "../../core/wire/index.ts";
import type { ServerContext } from "../context.ts";
import { newOutboundPool, type OutboundPool, type PoolOptions } from "../s2s/outbound_pool.ts";
import { startCacheRefresher, type CacheRefresher } from "./cache_refresher.ts";
import { startDelivery, type Delivery, type DeliveryLimits } from "./delivery.ts";
import { admitSender, closeGatekeeper, countDrop, gateName, gateVerdict, holdNotification, noteContact, openGatekeeper, type Gatekeeper, type GateLimits } from "./gatekeeper.ts";
import { newMonitorHub, type MonitorHub } from "./monitor_hub.ts";
import { openNotificationStore, type NewNotification, type NotificationRow, type NotificationStore } from "./notification_store.ts";
import { applyNotificationToCache, checkCacheable } from "./shared_cache.ts";

/** Default notification lifetime when `ttln` is absent (the reference's config.yaml: 15 min). */
export const DEFAULT_TTLN_MS = 15 * 60_000;
/** Longest accepted `ttln` (30 days). */
export const MAX_TTLN_MS = 30 * 24 * 60 * 60_000;
/** Expired notifications are kept this long for notify:status, then purged. */
export const NOTIFICATION_RETENTION_AFTER_EXPIRY_MS = 60 * 60_000;
/** How often expired notifications are purged. */
const PURGE_INTERVAL_MS = 60_000;
/** Rows purged per round. */
const PURGE_BATCH_ROWS = 10_000;

/** Notification tuning for tests and operators. */
export interface NotifyOptions {
  delivery?: Partial<DeliveryLimits>;
  pool?: Omit<PoolOptions, "tls">;
  /** Period of the background refresh of stale cached copies. */
  cacheRefreshMs?: number;
  /** Bounds of the gatekeeper's quarantine and rules. */
  gate?: Partial<GateLimits>;
}

/** The running notification side. */
export interface NotifyService {
  readonly store: NotificationStore;
  readonly hub: MonitorHub;
  readonly pool: OutboundPool;
  readonly delivery: Delivery;
  readonly cacheRefresher: CacheRefresher;
  readonly gate: Gatekeeper;
  stop(): void;
}

/**
 * Opens `notifications.sqlite` in `dataDir` and starts monitors, pool and delivery for `ctx`.
 * @example ctx.notify = startNotifyService(ctx, dataDir, tls);
 */
export function startNotifyService(ctx: ServerContext, dataDir: string, tls: { key: string; cert: string }, opts: NotifyOptions = {}): NotifyService {
  const store = openNotificationStore(join(dataDir, "notifications.sqlite"), ctx.metrics.notify);
  const hub = newMonitorHub(store, () => ctx.keystore.lastCommitId(), ctx.atSign);
  const pool = newOutboundPool(ctx, { tls, ...opts.pool });
  // Opened at its first use (a rule, a lookup or notification to check): a server nobody notifies idles
  // without the third sqlite file (~0.35 MiB RSS, `bun bench.ts memory`).
  let gate: Gatekeeper | null = null;
  const openGate = () => (gate ??= openGatekeeper(join(dataDir, "gatekeeper.sqlite"), opts.gate));
  const delivery = startDelivery(store, pool, opts.delivery, ctx.metrics.notify, (r) => {
    const denied = deniesOutbound(openGate(), r.to, r);
    if (denied) countDrop(openGate(), "deniedAtDelivery");
    return denied;
  });
  const cacheRefresher = startCacheRefresher(ctx, opts.cacheRefreshMs);
  const purge = setInterval(() => {
    try {
      store.purgeExpired(Date.now() - NOTIFICATION_RETENTION_AFTER_EXPIRY_MS, PURGE_BATCH_ROWS);
    } catch {
      // Retried next round; a busy database is not worth a crash.
    }
  }, PURGE_INTERVAL_MS);
  purge.unref();
  return {
    store,
    hub,
    pool,
    delivery,
    cacheRefresher,
    get gate() {
      return openGate();
    },
    stop() {
      clearInterval(purge);
      cacheRefresher.stop();
      delivery.stop();
      pool.stop();
      hub.stop();
      store.close();
      if (gate) closeGatekeeper(gate);
    },
  };
}

function service(ctx: ServerContext): NotifyService {
  if (!ctx.notify) throw new AtProtocolError("AT0010", "Notifications are not available on this server");
  return ctx.notify;
}

function atSignOf(text: string): string {
  try {
    return normalizeAtSign(text);
  } catch (err) {
    throw new AtProtocolError("AT0003", `Invalid syntax. ${(err as Error).message}`);
  }
}

function ttlnOf(ttln: number | undefined): number {
  if (ttln === undefined || ttln === 0) return DEFAULT_TTLN_MS;
  if (ttln > MAX_TTLN_MS) throw new AtProtocolError("AT0022", `ttln is at most ${MAX_TTLN_MS} ms`);
  return ttln;
}

/**
 * What a text message keeps besides isEncrypted: what its recipient needs to decrypt it. The reference keeps
 * nothing else, so an encrypted text could not carry its IV; keeping these is a superset its clients ignore.
 */
const TEXT_META_FIELDS: ReadonlySet<keyof MetadataPatch> = new Set(["ivNonce", "sharedKeyEnc", "pubKeyCS", "encKeyName", "encAlgo", "skeEncKeyName", "skeEncAlgo"]);

/** The metadata a notification carries (nulls dropped), with isEncrypted decided; text keeps TEXT_META_FIELDS. */
function notificationMeta(patch: MetadataPatch, isEncrypted: boolean, keepTtr: boolean, text: boolean): NotificationRow["meta"] {
  const meta: NotificationRow["meta"] = { isEncrypted };
  for (const [k, v] of Object.entries(patch) as [keyof MetadataPatch, unknown][]) {
    if (v === null || v === undefined || k === "isEncrypted" || k === "sharedKeyStatus") continue;
    if (text && !TEXT_META_FIELDS.has(k)) continue;
    if ((k === "ttr" || k === "ccd") && !keepTtr) continue;
    (meta as unknown as Record<string, unknown>)[k] = v;
  }
  return meta;
}

/** Shared facts of a notify command, from either side. */
function describe(cmd: CommandOf<"notify">, from: string, to: string): Omit<NewNotification, "type" | "status" | "createdAt" | "expiresAt"> {
  const messageType = cmd.messageType ?? "key";
  const op = cmd.operation ?? "update";
  const isPublicKey = messageType === "key" && (cmd.isPublic === true || cmd.atKey.toLowerCase().startsWith("public:"));
  let key: string;
  if (messageType === "text") key = `${to}:${cmd.atKey}`;
  else {
    const name = cmd.atKey.toLowerCase().replace(/^public:/, "");
    key = isPublicKey ? `public:${name}${from}` : `${to}:${name}${from}`;
  }
  const isEncrypted = messageType === "text" ? cmd.metadata.isEncrypted === true : isPublicKey ? false : cmd.metadata.isEncrypted !== false;
  const ttr = cmd.metadata.ttr;
  const keepTtr = messageType === "key" && ttr != null && (op === "delete" || cmd.value !== undefined);
  const meta = notificationMeta(cmd.metadata, isEncrypted, keepTtr, messageType === "text");
  return {
    id: cmd.id ?? crypto.randomUUID(),
    from,
    to,
    key,
    value: cmd.value ?? null,
    op,
    messageType,
    priority: cmd.priority ?? "low",
    strategy: cmd.strategy ?? "all",
    latestN: cmd.latestN ?? 1,
    notifier: cmd.notifier ?? "SYSTEM",
    ttln: ttlnOf(cmd.ttln),
    meta,
  };
}

/**
 * Our owner's `notify`: stored as `sent` and queued for delivery, or — addressed to ourselves — stored as
 * `received` and pushed to monitors. Returns the notification id. Idempotent per id and recipient.
 */
export function sendNotification(ctx: ServerContext, cmd: CommandOf<"notify">): string {
  const svc = service(ctx);
  if (cmd.atSign !== undefined && atSignOf(cmd.atSign) !== ctx.atSign) {
    throw new AtProtocolError("AT0009", `UnAuthorized client in request: cannot notify on behalf of ${cmd.atSign}`);
  }
  if (cmd.forAtSign === undefined) throw new AtProtocolError("AT0003", "Invalid syntax. notify needs a recipient: notify:...:@<to>:<key>");
  if (cmd.strategy === "latest" && cmd.notifier === undefined) throw new AtProtocolError("AT0003", "Invalid syntax. strategy:latest needs a notifier");
  const to = atSignOf(cmd.forAtSign);
  const now = Date.now();
  const base = describe(cmd, ctx.atSign, to);
  const self = to === ctx.atSign;
  if (!self) assertNotDenied(svc, to, base);
  const { row, inserted } = svc.store.insert({
    ...base,
    type: self ? "received" : "sent",
    status: self ? "delivered" : "queued",
    createdAt: now,
    expiresAt: now + base.ttln,
  });
  if (inserted) {
    if (self) svc.hub.publish(row);
    else svc.delivery.wake();
  }
  if (!self) noteContact(svc.gate, to);
  return row.id;
}

/** The name the gate classifies a notification by; a text message has none (only the `*` rule binds it). */
const gateNameOf = (n: Pick<NewNotification, "messageType" | "key">) => (n.messageType === "text" ? null : gateName(n.key));

function deniesOutbound(gate: Gatekeeper, to: string, n: Pick<NewNotification, "messageType" | "key">): boolean {
  return gateVerdict(gate, "out", to, gateNameOf(n), false) === "deny";
}

/**
 * Throws AT0009 when the owner's gatekeeper denies notifying `to` (any spelling) about `n.key` (a full
 * notification key or the bare name a notify line carries). notify:all and notify:multi ask for every
 * recipient first, so that a refusal queues nothing.
 */
export function assertGateSends(ctx: ServerContext, to: string, n: Pick<NewNotification, "messageType" | "key">): void {
  const atSign = atSignOf(to.startsWith("@") ? to : `@${to}`);
  if (atSign !== ctx.atSign) assertNotDenied(service(ctx), atSign, { messageType: n.messageType, key: n.key.toLowerCase() });
}

function assertNotDenied(svc: NotifyService, to: string, n: Pick<NewNotification, "messageType" | "key">): void {
  if (deniesOutbound(svc.gate, to, n)) {
    throw new AtProtocolError("AT0009", `UnAuthorized client in request: the gatekeeper denies notifying ${to} about this namespace`);
  }
}

/**
 * Throws AT0009 when the owner's gatekeeper denies answering `atSign`'s lookup of `key` (checked before the
 * key is read, so the answer says nothing about whether it exists).
 */
export function assertGateAnswers(ctx: ServerContext, atSign: string, key: string): void {
  if (ctx.notify && gateVerdict(ctx.notify.gate, "out", atSign, gateName(key), false) === "deny") {
    throw new AtProtocolError("AT0009", `UnAuthorized client in request: the gatekeeper denies ${atSign} this namespace`);
  }
}

/**
 * A notification delivered by `from`'s server on a pol-authenticated connection: stored once per id (a
 * redelivery is acknowledged again but not stored or pushed twice), applied to our cached copy, pushed to
 * monitors.
 */
export function receiveNotification(ctx: ServerContext, from: string, cmd: CommandOf<"notify">, allowListed = false): void {
  const svc = service(ctx);
  if (cmd.forAtSign !== undefined && atSignOf(cmd.forAtSign) !== ctx.atSign) {
    throw new AtProtocolError("AT0009", `UnAuthorized client in request: this server does not take notifications for ${cmd.forAtSign}`);
  }
  if ((cmd.messageType ?? "key") === "key" && cmd.atSign !== undefined && atSignOf(cmd.atSign) !== from) {
    throw new AtProtocolError("AT0009", `UnAuthorized client in request: ${from} cannot notify about keys of ${cmd.atSign}`);
  }
  const now = Date.now();
  const base = describe(cmd, from, ctx.atSign);
  checkCacheable(base);
  const n: NewNotification = { ...base, type: "received", status: "delivered", createdAt: now, expiresAt: now + base.ttln };
  const verdict = gateVerdict(svc.gate, "in", from, gateNameOf(n), allowListed);
  if (verdict === "deny") throw new AtProtocolError("AT0009", `UnAuthorized client in request: ${ctx.atSign} does not accept this notification from ${from}`);
  // Held, the sender hears success as for any other (the quarantine cannot be probed); nothing else happens yet.
  if (verdict === "quarantine") holdNotification(svc.gate, n);
  else accept(ctx, svc, n);
}

/** A received notification into the normal flow: stored once, applied to the cached copy, pushed to monitors. */
function accept(ctx: ServerContext, svc: NotifyService, n: NewNotification): void {
  const { row, inserted } = svc.store.insert(n);
  if (!inserted) return;
  const change = applyNotificationToCache(ctx, row);
  svc.hub.publish(row);
  if (change) svc.hub.publishStats(change.commitId, change.op);
}

/**
 * The owner admits `atSign`: its held notifications enter the normal flow in the order they came (the
 * expired ones are left out), and it is known from then on. Returns how many were held.
 */
export function admitQuarantined(ctx: ServerContext, atSign: string): number {
  const svc = service(ctx);
  return admitSender(svc.gate, atSign, (n) => {
    if (n.expiresAt > Date.now()) accept(ctx, svc, n);
  });
}

/**
 * The notification a write of a key shared with another @sign implies (the reference's autoNotify, which
 * sends what its update handler got): the stored value travels on every `update` write (`withValue`; an
 * `update:meta` has none to send), and `isEncrypted` is the record's flag, false when the writer set none (the
 * C SDK sets `ivNonce` only).
 */
export function notifyOnSharedWrite(ctx: ServerContext, key: string, op: "update" | "delete", withValue: boolean): void {
  const m = /^(@[^:@\s]+):(.+)(@[^:@\s]+)$/.exec(key);
  if (!m || m[3] !== ctx.atSign || m[1] === ctx.atSign || !ctx.notify) return;
  // The write itself stands; only the notification the gatekeeper denies is not sent.
  if (deniesOutbound(ctx.notify.gate, m[1]!, { messageType: "key", key })) return;
  const record = op === "update" ? ctx.keystore.get(key) : null;
  const metadata: MetadataPatch = {};
  if (record) {
    const { ttr, ccd, ttl, ttb, isEncrypted, sharedKeyEnc, pubKeyCS, pubKeyHash, hashingAlgo, encKeyName, encAlgo, ivNonce, skeEncKeyName, skeEncAlgo, appMetadata } = record.meta;
    // appMetadata travels too (3.14): the recipient's reader needs its provider and iv to decrypt.
    Object.assign(metadata, { ttr, ccd, ttl, ttb, sharedKeyEnc, pubKeyCS, pubKeyHash, hashingAlgo, encKeyName, encAlgo, ivNonce, skeEncKeyName, skeEncAlgo, appMetadata });
    metadata.isEncrypted = isEncrypted === true;
  }
  sendNotification(ctx, {
    verb: "notify",
    operation: op,
    messageType: "key",
    metadata,
    forAtSign: m[1],
    atKey: m[2]!,
    atSign: ctx.atSign,
    value: withValue && record?.value && fitsDeliveryLine(key, record.value, metadata) ? record.value : undefined,
  });
}

/** Bytes a delivery line adds around key, value and metadata (`notify:id:<uuid>:update:messageType:…:ttln:…`). */
const DELIVERY_ENVELOPE_BYTES = 256;

/**
 * Whether a notify line carrying `value` stays within the receiver's request limit; a value written at the
 * limit by `update` would not, and the notification then goes without it (the receiver can look it up).
 */
function fitsDeliveryLine(key: string, value: string, metadata: MetadataPatch): boolean {
  const encoder = new TextEncoder();
  const bytes = encoder.encode(value).byteLength + encoder.encode(key).byteLength + encoder.encode(formatMetadataPatch(metadata)).byteLength;
  return bytes + DELIVERY_ENVELOPE_BYTES <= MAX_REQUEST_BYTES;
}
