/**
 * The `directory` scenario's PostgreSQL half (issue 15): the same @signs in a throwaway PostgreSQL cluster
 * (ops/postgres/throwaway_postgres.ts), the directory child on it, lookups of a hot set that fits its cache
 * (p50/p99 through the cache) and, separately, first lookups of names it has never seen (a cold miss: one
 * query to PostgreSQL). Not available where PostgreSQL is not installed, except under CI=true where that fails.
 */
import { fileURLToPath } from "node:url";
import { trustedCas } from "../core/net/tls.ts";
import type { BenchContext } from "./context.ts";
import { openDirectoryConn, type DirectoryConn } from "./directory_client.ts";
import { loadPart } from "./load_part.ts";
import { NotAvailable } from "./scenario.ts";
import { findPostgresBinDir, startThrowawayPostgres } from "../ops/postgres/throwaway_postgres.ts";

/** Distinct names looked up through the cache: well within its default 100,000 entries. */
const HOT_SET = { full: 50_000, quick: 1_000 };
/** First lookups of unseen names, timed one at a time over one connection. */
const COLD_LOOKUPS = { full: 5_000, quick: 200 };

type Fill = (url: string, opts: { count: number }) => Promise<{ rows: number; ms: number }>;
type LookupRun = (conns: DirectoryConn[], pick: () => string, tag: string, label: string) => Promise<void>;

/**
 * Fills `registered` @signs, starts the directory child on PostgreSQL and measures; `lookups` is the
 * scenario's own loop (the same one the sqlite figures come from).
 */
export async function measurePostgresDirectory(ctx: BenchContext, home: string, registered: number, connections: number, lookups: LookupRun): Promise<void> {
  const bindir = findPostgresBinDir();
  if (!bindir) {
    if (process.env.CI === "true") throw new Error("CI=true but PostgreSQL is not installed (apt-get install -y postgresql)");
    throw new NotAvailable("PostgreSQL is not installed (apt-get install -y postgresql)");
  }
  const fill = await loadPart<Fill>("directory/fill_registry.ts", "fillPostgresRegistry");
  const fixtureAtSign = await loadPart<(i: number) => string>("directory/fill_registry.ts", "fixtureAtSign");
  const name = (i: number) => fixtureAtSign(i).slice(1);
  ctx.progress("starting PostgreSQL");
  const pg = await startThrowawayPostgres({ bindir });
  ctx.defer(() => pg.stop());
  ctx.progress(`filling PostgreSQL with ${registered} @signs`);
  const filled = await fill(pg.url, { count: registered });
  ctx.metric({ id: "pg_bulk_load_rate", label: `registrations/s, PostgreSQL INSERT ... SELECT (${registered} @signs)`, value: (registered * 1000) / filled.ms, unit: "@signs/s" });

  const fixture = fileURLToPath(new URL("./fixtures/directory_child.ts", import.meta.url));
  const env = { ...process.env, INLAY_LOG: "warn", INLAY_POSTGRES_URL: pg.url };
  const child = await ctx.spawn([process.execPath, fixture, home, ctx.tempDir(), crypto.randomUUID()], { ready: /listening on .*:(\d+) admin (\S+)/, env });
  const target = { host: "127.0.0.1", port: Number(child.ready[1]), ca: trustedCas({ home }) };
  const conns = await Promise.all(Array.from({ length: connections }, () => openDirectoryConn(target)));
  ctx.defer(() => conns.forEach((c) => c.close()));

  const hot = ctx.pick(HOT_SET.full, HOT_SET.quick);
  const cold = Math.min(ctx.pick(COLD_LOOKUPS.full, COLD_LOOKUPS.quick), registered - hot);
  ctx.progress(`cold misses: ${cold} unseen names over 1 connection`);
  const rec = ctx.latency();
  await ctx.loop({ ms: Number.MAX_SAFE_INTEGER, count: cold }, async (i) => {
    const t = Bun.nanoseconds();
    const answer = await conns[0]!.lookup(name(hot + i));
    rec.recordSince(t);
    if (answer === "null") throw new Error(`directory has no entry for ${name(hot + i)}`);
  });
  const h = rec.summary();
  ctx.metric({ id: "pg_cold_miss_p50", label: "cold miss p50 (one PostgreSQL query), 1 connection", value: h.p50, unit: "µs", histogram: h });
  ctx.metric({ id: "pg_cold_miss_p99", label: "cold miss p99 (one PostgreSQL query), 1 connection", value: h.p99, unit: "µs" });

  ctx.progress(`warming the cache with ${hot} names`);
  await ctx.loopConcurrent(connections, { ms: Number.MAX_SAFE_INTEGER, count: hot }, (w, i) => conns[w]!.lookup(name(i)));
  const rss = ctx.readRss(child.pid);
  if (rss) ctx.metric({ id: "pg_rss_cached", label: `directory RSS on PostgreSQL, ${hot} names cached`, value: rss.rssMiB, unit: "MiB" });
  const pick = () => name(Math.floor(Math.random() * hot));
  ctx.progress("cached lookups over 1 connection");
  await lookups(conns.slice(0, 1), pick, "pg_cached_1conn", "PostgreSQL, cached, 1 connection");
  ctx.progress(`cached lookups over ${connections} connections`);
  await lookups(conns, pick, `pg_cached_${connections}conn`, `PostgreSQL, cached, ${connections} connections`);
}
