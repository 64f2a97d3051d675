/**
 * `directory` (issue 2): root lookups over one TLS connection and over 50, p50/p99, with 1,000,000 registered
 * @signs (10,000 under --quick). The directory runs in a child process (bench/fixtures/directory_child.ts);
 * the registrations are bulk-loaded first (bench/directory_bulk_load.ts). Then the same on PostgreSQL
 * (issue 15, bench/directory_postgres.ts): lookups through the cache, and cold misses apart.
 */
import { fileURLToPath } from "node:url";
import { trustedCas } from "../../core/net/tls.ts";
import type { BenchContext } from "../context.ts";
import { openDirectoryConn, type DirectoryConn } from "../directory_client.ts";
import { loadPart } from "../load_part.ts";
import type { Scenario } from "../scenario.ts";
import { loadRegistry, registerThroughAdmin } from "../directory_bulk_load.ts";
import { measurePostgresDirectory } from "../directory_postgres.ts";
import { NotAvailable } from "../scenario.ts";

/** Connections in the many-connection test (issue 2). */
const MANY_CONNECTIONS = 50;

/** The name registered as number `i` (without `@`). */
export const benchAtSignName = (i: number) => `bench${i}`;

/** Lookups of `pick()`ed names over `conns`, after a warm-up: rate, p50, p99. */
async function lookups(ctx: BenchContext, conns: DirectoryConn[], pick: () => string, tag: string, label: string) {
  let rec = ctx.latency();
  const ms = ctx.pick(3_000, 400);
  const one = async (w: number) => {
    const name = pick();
    const t = Bun.nanoseconds();
    const answer = await conns[w]!.lookup(name);
    rec.recordSince(t);
    if (answer === "null") throw new Error(`directory has no entry for ${name}`);
  };
  await ctx.loopConcurrent(conns.length, { ms: ms / 5 }, one); // warm-up, not recorded
  rec = ctx.latency();
  const r = await ctx.loopConcurrent(conns.length, { ms }, one);
  const h = rec.summary();
  ctx.metric({ id: `lookup_rate_${tag}`, label: `lookups/s, ${label}`, value: r.perSecond, unit: "lookups/s", group: "lookups/s", path: label });
  ctx.metric({ id: `lookup_p50_${tag}`, label: `lookup p50, ${label}`, value: h.p50, unit: "µs", histogram: h });
  ctx.metric({ id: `lookup_p99_${tag}`, label: `lookup p99, ${label}`, value: h.p99, unit: "µs" });
}

/** The `directory` scenario. */
export const directoryScenario: Scenario = {
  name: "directory",
  description: "root lookups over 1 and 50 TLS connections, p50/p99, with 1M registered @signs (quick: 10k), on sqlite and on PostgreSQL (cached, cold miss)",
  targets: [
    { metric: "lookup_p99_1conn", op: "<=", value: 1_000, unit: "µs", source: "issue 2" },
    { metric: "lookup_p99_pg_cached_1conn", op: "<=", value: 1_000, unit: "µs", source: "issue 15" },
  ],
  async run(ctx) {
    await loadPart("directory/index.ts", "startDirectory");
    const home = ctx.tempDir();
    const dataDir = `${home}/directory`;
    const registered = ctx.pick(1_000_000, 10_000);
    ctx.progress(`registering ${registered} @signs`);
    const t0 = performance.now();
    const offline = await loadRegistry(ctx, dataDir, registered, benchAtSignName);
    const loadMs = performance.now() - t0;

    const token = crypto.randomUUID();
    const fixture = fileURLToPath(new URL("../fixtures/directory_child.ts", import.meta.url));
    const child = await ctx.spawn([process.execPath, fixture, home, dataDir, token], { ready: /listening on .*:(\d+) admin (\S+)/, env: { ...process.env, INLAY_LOG: "warn" } });
    const target = { host: "127.0.0.1", port: Number(child.ready[1]), ca: trustedCas({ home }) };
    if (offline) {
      ctx.metric({ id: "bulk_load_rate", label: `registrations/s, registry API (${registered} @signs)`, value: (registered * 1000) / loadMs, unit: "@signs/s" });
    } else {
      const t1 = performance.now();
      await registerThroughAdmin(ctx, { adminUrl: child.ready[2]!, token }, registered, benchAtSignName);
      ctx.metric({ id: "bulk_load_rate", label: `registrations/s, admin API (${registered} @signs)`, value: (registered * 1000) / (performance.now() - t1), unit: "@signs/s" });
    }
    const rss = ctx.readRss(child.pid);
    if (rss) ctx.metric({ id: "rss_loaded", label: `directory RSS with ${registered} @signs`, value: rss.rssMiB, unit: "MiB" });

    const conns = await Promise.all(Array.from({ length: MANY_CONNECTIONS }, () => openDirectoryConn(target)));
    ctx.defer(() => conns.forEach((c) => c.close()));
    const pick = () => benchAtSignName(Math.floor(Math.random() * registered));
    ctx.progress("lookups over 1 connection");
    await lookups(ctx, conns.slice(0, 1), pick, "1conn", "1 connection");
    ctx.progress(`lookups over ${MANY_CONNECTIONS} connections`);
    await lookups(ctx, conns, pick, `${MANY_CONNECTIONS}conn`, `${MANY_CONNECTIONS} connections`);
    conns.forEach((c) => c.close());
    await child.stop();

    try {
      await measurePostgresDirectory(ctx, home, registered, MANY_CONNECTIONS, (c, p, tag, label) => lookups(ctx, c, p, tag, label));
    } catch (err) {
      if (!(err instanceof NotAvailable)) throw err;
      ctx.note(`PostgreSQL: not available: ${err.message}`);
    }
  },
};
