/**
 * The registry in PostgreSQL (Bun's built-in SQL client), shared by several directory processes, with an
 * in-process cache (directory/registry_cache.ts) in front of it so a lookup rarely leaves the process.
 *
 * Invalidation: statement-level triggers on the table `pg_notify` every changed key (or `*` for a bulk
 * statement) on REGISTRY_CHANNEL, whoever wrote it — a directory, psql or a bulk load; every process LISTENs
 * on a dedicated connection (Bun's `sql.listen`, which reconnects and re-subscribes by itself).
 *
 * Staleness bound: notifications sent while that connection is down are lost, so the cache is flushed and
 * bypassed from the moment the connection closes until it is subscribed again and a probe came back through
 * it. A connection that dies silently (no close seen) is caught by the probe: each process notifies itself
 * every PROBE_INTERVAL_MS and, when no probe has come back for PROBE_OVERDUE_MS, flushes and bypasses the
 * cache the same way. A cached answer is therefore never older than PROBE_OVERDUE_MS + PROBE_INTERVAL_MS past
 * a write elsewhere; normally it goes within the notification's delivery (well under a millisecond here).
 */
import { SQL } from "bun";
import { logger } from "../core/log.ts";
import { cacheFill, cacheFlush, cacheGet, cacheInvalidate, newRegistryCache, type RegistryCache, type RegistryCacheLimits } from "./registry_cache.ts";
import { pageSize, registryKey, toPage, type Registration, type Registry } from "./registry.ts";

/** The notification channel of registry changes. */
export const REGISTRY_CHANNEL = "inlay_registry";
/** Rows changed by one statement above which the trigger sends one `*` (flush everything) instead of each key. */
export const NOTIFY_MAX_KEYS_PER_STATEMENT = 100;
/** How often a process checks its LISTEN connection with a notification to itself. */
export const PROBE_INTERVAL_MS = 1_000;
/** Time without a probe back after which the cache is flushed and bypassed. */
export const PROBE_OVERDUE_MS = 3_000;
/** Connections in the query pool of one directory process. */
export const POSTGRES_POOL_MAX = 10;
/** Longest a connection attempt may take (s). */
const CONNECT_TIMEOUT_S = 10;
/** Longest a statement may run on the server (ms): a lookup is one index probe. */
const STATEMENT_TIMEOUT_MS = 5_000;
/** Longest closing may wait for queries in flight (s). */
const CLOSE_TIMEOUT_S = 2;
/** Key for the advisory lock that serialises schema migrations of processes starting together. */
const MIGRATION_LOCK = 0x1a7_5157;

/**
 * Schema migrations; index i moves the schema from version i to i+1. Never edit a released one: append.
 * The key column sorts bytewise (`C`), as sqlite does, so pages come in the same order on both stores.
 */
export const POSTGRES_REGISTRY_MIGRATIONS = [
  `CREATE TABLE atsigns (
     atsign text COLLATE "C" PRIMARY KEY,
     host text NOT NULL,
     port integer NOT NULL,
     updated_at bigint NOT NULL
   );
   CREATE FUNCTION atsigns_notify() RETURNS trigger LANGUAGE plpgsql AS $$
   DECLARE
     tag text := CASE TG_OP WHEN 'INSERT' THEN '+' WHEN 'DELETE' THEN '-' ELSE '~' END;
     origin text := ' ' || current_setting('application_name');
     n bigint;
   BEGIN
     IF TG_OP = 'DELETE' THEN SELECT count(*) INTO n FROM old_rows; ELSE SELECT count(*) INTO n FROM new_rows; END IF;
     IF n > ${NOTIFY_MAX_KEYS_PER_STATEMENT} THEN
       PERFORM pg_notify('${REGISTRY_CHANNEL}', '*' || origin);
     ELSIF TG_OP = 'DELETE' THEN
       PERFORM pg_notify('${REGISTRY_CHANNEL}', tag || atsign || origin) FROM old_rows;
     ELSE
       PERFORM pg_notify('${REGISTRY_CHANNEL}', tag || atsign || origin) FROM new_rows;
     END IF;
     RETURN NULL;
   END $$;
   CREATE TRIGGER atsigns_inserted AFTER INSERT ON atsigns REFERENCING NEW TABLE AS new_rows
     FOR EACH STATEMENT EXECUTE FUNCTION atsigns_notify();
   CREATE TRIGGER atsigns_updated AFTER UPDATE ON atsigns REFERENCING NEW TABLE AS new_rows
     FOR EACH STATEMENT EXECUTE FUNCTION atsigns_notify();
   CREATE TRIGGER atsigns_deleted AFTER DELETE ON atsigns REFERENCING OLD TABLE AS old_rows
     FOR EACH STATEMENT EXECUTE FUNCTION atsigns_notify();`,
];

/** Where the registry is and how big its cache may grow. */
export interface PostgresRegistryOptions {
  /** Connection URL; it carries the password, so it comes from a 0600 file or the environment. */
  url: string;
  cache?: Partial<RegistryCacheLimits>;
  poolMax?: number;
}

/** Cache figures, for tests and logs. */
export interface PostgresRegistryStats {
  cached: number;
  hits: number;
  fetches: number;
  flushes: number;
  live: boolean;
  /** Times the LISTEN connection was (re)subscribed. */
  subscriptions: number;
}

/** The PostgreSQL registry, plus its cache figures. */
export interface PostgresRegistry extends Registry {
  stats(): PostgresRegistryStats;
}

interface PgState {
  sql: SQL;
  cache: RegistryCache;
  /** application_name of our query connections: notifications with it are our own writes. */
  origin: string;
  count: number;
  closing: boolean;
  subscribed: boolean;
  subscriptions: number;
  lastProbeBackMs: number;
}

type Row = { atsign: string; host: string; port: number; updated_at: string };

const log = logger("directory");
const toRegistration = (r: Row): Registration => ({ atSign: "@" + r.atsign, host: r.host, port: r.port, updatedAt: Number(r.updated_at) });

/** Applies the migrations not yet applied, under a lock so processes starting together do not race. */
export async function migratePostgresRegistry(sql: SQL): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`CREATE TABLE IF NOT EXISTS registry_schema (version integer NOT NULL)`;
    const [row] = await tx`SELECT version FROM registry_schema`;
    const from = row ? (row.version as number) : 0;
    if (!row) await tx`INSERT INTO registry_schema (version) VALUES (0)`;
    for (let v = from; v < POSTGRES_REGISTRY_MIGRATIONS.length; v++) await tx.unsafe(POSTGRES_REGISTRY_MIGRATIONS[v]!);
    await tx`UPDATE registry_schema SET version = ${POSTGRES_REGISTRY_MIGRATIONS.length}`;
  });
}

/**
 * Connects, migrates, subscribes to invalidations and counts the rows. The cache starts once the first
 * probe has come back.
 * @example const reg = await openPostgresRegistry({ url: readFileSync(urlFile, "utf8").trim() });
 */
export async function openPostgresRegistry(opts: PostgresRegistryOptions): Promise<PostgresRegistry> {
  const origin = `inlay-directory-${crypto.randomUUID().slice(0, 8)}`;
  const connection = { application_name: origin, statement_timeout: STATEMENT_TIMEOUT_MS };
  const sql = new SQL(opts.url, { max: opts.poolMax ?? POSTGRES_POOL_MAX, connectionTimeout: CONNECT_TIMEOUT_S, connection });
  // A client of its own for LISTEN: its onclose then means exactly "the LISTEN connection is gone".
  const listener = new SQL(opts.url, { max: 1, connectionTimeout: CONNECT_TIMEOUT_S, connection: { idle_session_timeout: 0 }, onclose: () => listenLost(st) });
  const st: PgState = { sql, cache: newRegistryCache(opts.cache), origin, count: 0, closing: false, subscribed: false, subscriptions: 0, lastProbeBackMs: 0 };
  try {
    await migratePostgresRegistry(sql);
    await listener.listen(REGISTRY_CHANNEL, (payload) => onNotification(st, payload), () => void onSubscribed(st));
    await recount(st);
    const probe = setInterval(() => probeListen(st), PROBE_INTERVAL_MS);
    probe.unref();
    probeListen(st);
    return registryOver(st, async () => {
      st.closing = true;
      clearInterval(probe);
      // Closing the listener's client ends its LISTEN with the connection (the server forgets it).
      await Promise.all([listener.close({ timeout: CLOSE_TIMEOUT_S }), sql.close({ timeout: CLOSE_TIMEOUT_S })]);
    });
  } catch (err) {
    await Promise.all([listener.close({ timeout: 0 }), sql.close({ timeout: 0 })]);
    throw err;
  }
}

function registryOver(st: PgState, close: () => Promise<void>): PostgresRegistry {
  const { sql, cache } = st;
  return {
    lookup(key) {
      const cached = cacheGet(cache, key);
      if (cached !== undefined) return cached;
      const epoch = cache.epoch;
      return sql`SELECT host || ':' || port AS address FROM atsigns WHERE atsign = ${key}`.then((rows: { address: string }[]) => {
        const address = rows[0]?.address ?? null;
        cacheFill(cache, key, address, epoch);
        return address;
      });
    },
    async get(atSign) {
      const [r] = await sql<Row[]>`SELECT atsign, host, port, updated_at FROM atsigns WHERE atsign = ${registryKey(atSign)}`;
      return r ? toRegistration(r) : null;
    },
    async put(atSign, host, port) {
      const key = registryKey(atSign);
      const now = Date.now();
      const [r] = await sql`INSERT INTO atsigns (atsign, host, port, updated_at) VALUES (${key}, ${host}, ${port}, ${now})
        ON CONFLICT (atsign) DO UPDATE SET host = excluded.host, port = excluded.port, updated_at = excluded.updated_at
        RETURNING (xmax = 0) AS inserted`;
      if (r.inserted) st.count++;
      // Our own notification comes later; a lookup here right after the put must already see it.
      cacheInvalidate(cache, key);
      return { atSign, host, port, updatedAt: now };
    },
    async remove(atSign) {
      const key = registryKey(atSign);
      const removed = (await sql`DELETE FROM atsigns WHERE atsign = ${key}`).count > 0;
      if (removed) st.count--;
      cacheInvalidate(cache, key);
      return removed;
    },
    async list(after, limit) {
      const n = pageSize(limit);
      const rows = await sql<Row[]>`SELECT atsign, host, port, updated_at FROM atsigns WHERE atsign > ${after === null ? "" : registryKey(after)} ORDER BY atsign LIMIT ${n + 1}`;
      return toPage(rows.map(toRegistration), n);
    },
    count: () => st.count,
    async ping() {
      await sql`SELECT 1`;
    },
    stats: () => ({ cached: cache.found.size + cache.missed.size, hits: cache.hits, fetches: cache.fetches, flushes: cache.flushes, live: cache.live, subscriptions: st.subscriptions }),
    close,
  };
}

/** A notification: `<+|~|-><key> <origin>`, `* <origin>` after a bulk statement, or our probe `?<origin>`. */
function onNotification(st: PgState, payload: string): void {
  if (payload.startsWith("?")) {
    if (payload.slice(1) === st.origin) probeBack(st);
    return;
  }
  const space = payload.lastIndexOf(" ");
  const tag = payload[0];
  const own = payload.slice(space + 1) === st.origin;
  if (tag === "*") {
    cacheFlush(st.cache, st.cache.live);
    void recount(st);
    return;
  }
  cacheInvalidate(st.cache, payload.slice(1, space));
  // Our own writes were counted when they returned.
  if (!own) st.count += tag === "+" ? 1 : tag === "-" ? -1 : 0;
}

function probeListen(st: PgState): void {
  if (st.cache.live && performance.now() - st.lastProbeBackMs > PROBE_OVERDUE_MS) {
    log.warn("registry notifications overdue: cache bypassed until they come back", { overdueMs: PROBE_OVERDUE_MS });
    cacheFlush(st.cache, false);
  }
  st.sql.notify(REGISTRY_CHANNEL, "?" + st.origin).catch((err) => log.debug("registry probe failed", { error: String(err) }));
}

function probeBack(st: PgState): void {
  st.lastProbeBackMs = performance.now();
  if (st.subscribed && !st.cache.live) cacheFlush(st.cache, true);
}

function listenLost(st: PgState): void {
  if (st.closing || (!st.subscribed && !st.cache.live)) return;
  st.subscribed = false;
  log.warn("registry LISTEN connection lost: cache flushed and bypassed until it is back");
  cacheFlush(st.cache, false);
}

/** (Re)subscribed: notifications may have been missed while away, so the count is taken again. */
async function onSubscribed(st: PgState): Promise<void> {
  st.subscribed = true;
  st.subscriptions++;
  if (st.subscriptions > 1) {
    log.info("registry LISTEN connection back");
    await recount(st);
  }
}

/** Takes the count again; a failure keeps the old one (the next resubscription or bulk change retries). */
async function recount(st: PgState): Promise<void> {
  try {
    const [r] = await st.sql`SELECT count(*)::integer AS n FROM atsigns`;
    st.count = r.n as number;
  } catch (err) {
    log.warn("registry recount failed", { error: String(err) });
  }
}
