/**
 * The tenants of one hosting process: for each provisioned @sign a TLS listener on its own port that is always
 * up, and its server state (keystore, keys, sweeper, notifications; server/index.ts openServerState) opened on
 * the first connection and closed after it has been idle. At most `maxOpenStores` states are open: opening
 * another closes the least recently used idle one. An @sign with notifications still to deliver stays open (its
 * delivery retries live in its state), and is opened at start when its queue is not empty.
 *
 * A tenant is found by its @sign (`pool.tenants`), and `tenantHandler` is the line handler of one tenant: a
 * shared-port front (SNI or a first `to:@sign` line) would look the tenant up and hand it the connection.
 */
import { logger } from "../../core/log.ts";
import { countEvent, newWindowCounter, retryAfterMs, type WindowCounter } from "../../core/net/window_counter.ts";
import { AtProtocolError, errorResponse } from "../../core/wire/index.ts";
import type { Connection } from "../connection.ts";
import { openServerState, type ServerState, type ServerStateOptions } from "../index.ts";
import { newLineActivity, startListener, type LineActivity, type LineHandler, type Listener, type ListenerLimits } from "../listener.ts";
import { newServerMetrics, type ServerMetrics } from "../metrics/server_metrics.ts";
import { hasPendingDeliveries } from "../notify/notification_store.ts";
import type { StoreQuota } from "../store/store_quota.ts";
import { join } from "node:path";
import type { TenantRecord } from "./tenant_dir.ts";

/** How a hosting process treats its tenants. */
export interface HostingLimits {
  /** Server states open at once (keystore + notification store + timers each); more are opened past it only while none is idle. */
  maxOpenStores: number;
  /**
   * States open at most, busy or not: past it a connection to a closed @sign is answered AT0012 (a peer holding
   * one connection to each of thousands of @signs must not open them all: ~1.1 MiB each).
   */
  maxOpenStoresHard: number;
  /** Time (ms) after its last connection closed before an @sign's state is closed. */
  idleCloseMs: number;
  /** Listener limits of each @sign (connections are counted per @sign: one tenant cannot take another's slots). */
  listener: Partial<ListenerLimits>;
  /** Keys and bytes each @sign may store. */
  store: StoreQuota;
  /**
   * Notifications other servers may deliver to one @sign per minute; past it they are answered AT0028 and the
   * sender keeps them queued and retries (nothing is lost, the flood waits at its source).
   */
  inboundNotificationsPerMinute: number;
}

/**
 * Defaults: 256 open states (~1.1 MiB each), 1,024 when all are busy, closed after 5 min idle; 50 connections per @sign (a busy @sign has a
 * few devices and peers; the single-@sign server's 200 would let 10,000 tenants hold 2M sockets); 100,000 keys
 * and 256 MiB per @sign; 600 inbound notifications per @sign per minute.
 */
export const DEFAULT_HOSTING_LIMITS: HostingLimits = {
  maxOpenStores: 256,
  maxOpenStoresHard: 1024,
  idleCloseMs: 5 * 60_000,
  listener: { maxConnections: 50, maxConnectionsPerAddress: 25 },
  store: { maxKeys: 100_000, maxBytes: 256 * 1024 * 1024 },
  inboundNotificationsPerMinute: 600,
};

/** Tenants whose inbound-notification window is tracked at once (more than one process serves). */
const MAX_TRACKED_TENANTS = 100_000;

/** Longest period of the shared idle sweep (ms). */
const IDLE_SWEEP_MAX_MS = 30_000;

const log = logger("hosting");

/** What every tenant's state is opened with (the per-@sign fields come from the tenant). */
export type SharedStateOptions = Omit<ServerStateOptions, "atSign" | "dataDir" | "cramSecret" | "connectionCount" | "resetOnboarding">;

/** One hosted @sign. */
export interface Tenant {
  readonly atSign: string;
  readonly dataDir: string;
  port: number;
  listener: Listener | null;
  state: ServerState | null;
  opening: Promise<ServerState> | null;
  /** Connections open on its listener (also those its state has not seen yet). */
  connections: number;
  /** Connections announced to the current state's handler (its metrics and per-connection cleanup). */
  readonly announced: Set<Connection>;
  /** When a connection last opened or closed (ms). */
  lastUsedAt: number;
}

/** The tenants of a process and the machinery they share. */
export interface TenantPool {
  readonly host: string;
  readonly state: SharedStateOptions;
  readonly limits: HostingLimits;
  readonly tenants: Map<string, Tenant>;
  /** Tenants with an open state, least recently used first (a Set keeps insertion order). */
  readonly open: Set<Tenant>;
  /** One CPU-share activity record for every listener: one tenant's heavy verbs yield to the others'. */
  readonly activity: LineActivity;
  /** Inbound notifications per @sign in the current minute. */
  readonly inbound: WindowCounter;
  /** What every tenant counts in: one record, so totals survive a store's close and cost nothing per @sign. */
  readonly metrics: ServerMetrics;
  sweep: ReturnType<typeof setInterval> | null;
}

/** A pool with no tenants yet; `serveTenant` adds them. */
export function newTenantPool(host: string, state: SharedStateOptions, limits: Partial<HostingLimits> = {}): TenantPool {
  const l = { ...DEFAULT_HOSTING_LIMITS, ...limits, listener: { ...DEFAULT_HOSTING_LIMITS.listener, ...limits.listener }, store: { ...DEFAULT_HOSTING_LIMITS.store, ...limits.store } };
  const inbound = newWindowCounter({ max: l.inboundNotificationsPerMinute, windowMs: 60_000, maxKeys: MAX_TRACKED_TENANTS });
  const pool: TenantPool = { host, state, limits: l, tenants: new Map(), open: new Set(), activity: newLineActivity(), inbound, metrics: newServerMetrics(), sweep: null };
  pool.sweep = setInterval(() => closeIdle(pool, Date.now()), Math.max(10, Math.min(IDLE_SWEEP_MAX_MS, l.idleCloseMs / 2)));
  pool.sweep.unref();
  return pool;
}

/**
 * Starts serving `rec`: its listener on `rec.port` (0 picks one; the tenant's `port` says which), its state
 * opened now only when it has notifications to deliver.
 */
export function serveTenant(pool: TenantPool, rec: TenantRecord, dataDir: string): Tenant {
  const t: Tenant = { atSign: rec.atSign, dataDir, port: rec.port, listener: null, state: null, opening: null, connections: 0, announced: new Set(), lastUsedAt: Date.now() };
  listen(pool, t);
  pool.tenants.set(t.atSign, t);
  if (hasPendingDeliveries(join(dataDir, "notifications.sqlite"))) {
    acquireState(pool, t).catch((err) => log.error("cannot open a tenant with queued notifications", { atSign: t.atSign, error: (err as Error).message }));
  }
  return t;
}

function listen(pool: TenantPool, t: Tenant): void {
  t.listener = startListener({ host: pool.host, port: t.port, tls: pool.state.tls, limits: pool.limits.listener, handler: tenantHandler(pool, t), activity: pool.activity });
  t.port = t.listener.port;
}

/** The line handler of `t`: opens its state on the first connection and forwards every event to it. */
export function tenantHandler(pool: TenantPool, t: Tenant): LineHandler {
  const forward = (st: ServerState, conn: Connection, line: string) => {
    if (!t.announced.has(conn)) {
      t.announced.add(conn);
      st.handler.onOpen?.(conn);
    }
    return st.handler.handleLine(conn, line);
  };
  return {
    onOpen() {
      t.connections++;
      t.lastUsedAt = Date.now();
      // Opening overlaps the TLS handshake; a failure is reported to the first line.
      acquireState(pool, t).catch(() => {});
    },
    handleLine(conn, line) {
      if (overInboundBudget(pool, t, conn, line)) return errorResponse(new AtProtocolError("AT0028", `${t.atSign} takes at most ${pool.limits.inboundNotificationsPerMinute} notifications a minute; retry later`), conn);
      if (t.state) return forward(t.state, conn, line);
      return acquireState(pool, t).then(
        (st) => forward(st, conn, line),
        (err: unknown) => (err instanceof AtProtocolError ? errorResponse(err, conn) : Promise.reject(err)),
      );
    },
    onClose(conn) {
      t.connections--;
      t.lastUsedAt = Date.now();
      if (t.announced.delete(conn)) t.state?.handler.onClose?.(conn);
    },
    onRefuse(reason) {
      t.state?.handler.onRefuse?.(reason);
    },
  };
}

/** Whether `line` delivers a notification to `t` from another server past its budget (counted when not). */
function overInboundBudget(pool: TenantPool, t: Tenant, conn: Connection, line: string): boolean {
  if (conn.state.auth !== "pol" || !line.startsWith("notify:") || line.startsWith("notify:list")) return false;
  if (retryAfterMs(pool.inbound, t.atSign) > 0) return true;
  countEvent(pool.inbound, t.atSign);
  return false;
}

/** The open state of `t`, opening it (and closing the least recently used idle one past the bound). */
export function acquireState(pool: TenantPool, t: Tenant): Promise<ServerState> {
  if (t.state) {
    pool.open.delete(t);
    pool.open.add(t);
    return Promise.resolve(t.state);
  }
  if (t.opening) return t.opening;
  if (pool.open.size >= pool.limits.maxOpenStores) closeLeastRecentIdle(pool);
  if (pool.open.size >= pool.limits.maxOpenStoresHard) {
    return Promise.reject(new AtProtocolError("AT0012", `this host has ${pool.open.size} @signs busy; retry later`, { closes: false }));
  }
  const opening = openServerState({ ...pool.state, atSign: t.atSign, dataDir: t.dataDir, quota: pool.limits.store, metrics: pool.metrics, connectionCount: () => t.listener?.connectionCount() ?? 0 });
  t.opening = opening.then(
    (st) => {
      t.opening = null;
      t.state = st;
      pool.open.add(t);
      return st;
    },
    (err) => {
      t.opening = null;
      log.error("cannot open a tenant", { atSign: t.atSign, error: (err as Error).message });
      throw err;
    },
  );
  return t.opening;
}

/** Whether `t`'s state may be closed: no connection and nothing left to deliver. */
function closable(t: Tenant): boolean {
  return t.state !== null && t.connections <= 0 && t.state.notify.store.pendingCount() === 0;
}

function closeLeastRecentIdle(pool: TenantPool): void {
  for (const t of pool.open) {
    if (closable(t)) return closeState(pool, t);
  }
  if (pool.open.size < pool.limits.maxOpenStoresHard) log.warn("every open tenant is busy: opening one more than maxOpenStores", { open: pool.open.size });
}

/** Closes the states idle for `idleCloseMs` at `now`. */
export function closeIdle(pool: TenantPool, now: number): void {
  for (const t of [...pool.open]) {
    if (closable(t) && now - t.lastUsedAt >= pool.limits.idleCloseMs) closeState(pool, t);
  }
}

/** Closes `t`'s state now (its listener stays); the next connection opens it again. */
export function closeState(pool: TenantPool, t: Tenant): void {
  pool.open.delete(t);
  const st = t.state;
  t.state = null;
  // Connections still closing (a reset, a delete) leave the state now: the shared metrics forget them too.
  for (const conn of t.announced) st?.handler.onClose?.(conn);
  t.announced.clear();
  st?.close();
}

/**
 * Takes `t` offline for a change of its files (reset, delete): its listener stops (every connection closes)
 * and its state closes. `resume` serves it again on the same port.
 */
export async function suspendTenant(pool: TenantPool, t: Tenant): Promise<void> {
  t.listener?.stop();
  t.listener = null;
  await t.opening?.catch(() => {});
  closeState(pool, t);
}

/** Serves a suspended tenant again on its port. */
export function resumeTenant(pool: TenantPool, t: Tenant): void {
  listen(pool, t);
}

/** Removes `t` from the pool (suspended first). */
export async function dropTenant(pool: TenantPool, t: Tenant): Promise<void> {
  await suspendTenant(pool, t);
  pool.tenants.delete(t.atSign);
}

/** Stops every tenant and the shared sweep. */
export async function stopPool(pool: TenantPool): Promise<void> {
  if (pool.sweep) clearInterval(pool.sweep);
  pool.sweep = null;
  for (const t of [...pool.tenants.values()]) await dropTenant(pool, t);
}
