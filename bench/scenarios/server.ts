/**
 * `server` (issue 2): one atServer as a child process (`bun server.ts`), driven over TLS by the SDK's own
 * connection: update and llookup round trips (1 connection, and several in parallel), p50/p99, and the
 * server's RSS idle and after 100k keys.
 */
import { AtConnection } from "../../client/connection/at_connection.ts";
import { cramAuthenticate } from "../../client/auth/authenticate.ts";
import type { BenchContext } from "../context.ts";
import type { Scenario } from "../scenario.ts";
import { IDLE_SETTLE_MS, startServerChild, type ServiceChild } from "../services.ts";

const AT_SIGN = "@benchsrv";
/** Value written by the update loop: the size of a typical small encrypted value in base64. */
const VALUE = "v".repeat(128);
/** Parallel connections in the multi-connection test. */
const PARALLEL_CONNECTIONS = 8;

async function ownerConnection(srv: ServiceChild, secret: string): Promise<AtConnection> {
  const conn = await AtConnection.open({ host: srv.host, port: srv.port, ca: srv.ca });
  await cramAuthenticate(conn, AT_SIGN, secret);
  return conn;
}

async function expectData(conn: AtConnection, line: string): Promise<string> {
  const r = await conn.request(line);
  if (!r.ok) throw new Error(`"${line.slice(0, 60)}" failed: ${r.code} ${r.description}`);
  return r.data;
}

/** Sequential round trips of one verb over `conns`, recorded as rate and latency metrics. */
async function roundTrips(ctx: BenchContext, conns: AtConnection[], verb: "update" | "llookup", idBase: string, label: string) {
  const rec = ctx.latency();
  const keysWritten = ctx.pick(2_000, 200);
  const r = await ctx.loopConcurrent(conns.length, { ms: ctx.pick(3_000, 400) }, async (w, i) => {
    const key = `k${i % keysWritten}.bench${AT_SIGN}`;
    const line = verb === "update" ? `update:${key} ${VALUE}` : `llookup:${key}`;
    const t = Bun.nanoseconds();
    await expectData(conns[w]!, line);
    rec.recordSince(t);
  });
  const h = rec.summary();
  ctx.metric({ id: `${idBase}_rate`, label: `${label}, rate`, value: r.perSecond, unit: "ops/s", group: `${verb} rate` , path: `${conns.length} conn` });
  ctx.metric({ id: `${idBase}_p50`, label: `${label}, p50`, value: h.p50, unit: "µs", histogram: h });
  ctx.metric({ id: `${idBase}_p99`, label: `${label}, p99`, value: h.p99, unit: "µs" });
}

/** The `server` scenario. */
export const serverScenario: Scenario = {
  name: "server",
  description: "atServer child process: update/llookup round trips (1 and 8 connections), p50/p99, RSS idle and with 100k keys",
  // The idle-RSS target of issue 2 is checked by the `memory` scenario, on the build that ships.
  targets: [],
  async run(ctx) {
    const home = ctx.tempDir();
    const secret = crypto.randomUUID().replaceAll("-", "");
    ctx.progress("starting bun server.ts");
    const srv = await startServerChild(ctx, home, AT_SIGN, secret);
    await Bun.sleep(ctx.pick(IDLE_SETTLE_MS, IDLE_SETTLE_MS / 3));
    const idle = ctx.readRss(srv.child.pid);
    if (idle) ctx.metric({ id: "rss_idle", label: "server RSS idle (from source; see the memory scenario)", value: idle.rssMiB, unit: "MiB" });

    const conns = await Promise.all(Array.from({ length: PARALLEL_CONNECTIONS }, () => ownerConnection(srv, secret)));
    ctx.defer(() => conns.forEach((c) => c.close()));
    for (const verb of ["update", "llookup"] as const) {
      ctx.progress(`${verb}, 1 connection`);
      await roundTrips(ctx, conns.slice(0, 1), verb, `${verb}_1conn`, `${verb}, 1 connection`);
      ctx.progress(`${verb}, ${PARALLEL_CONNECTIONS} connections`);
      await roundTrips(ctx, conns, verb, `${verb}_${PARALLEL_CONNECTIONS}conn`, `${verb}, ${PARALLEL_CONNECTIONS} connections`);
    }

    // Fill the keystore (pipelined: the connection keeps several requests in flight) and look at memory.
    const total = ctx.pick(100_000, 5_000);
    const sampler = ctx.sampleRss(srv.child.pid);
    const fill = await ctx.loopConcurrent(PARALLEL_CONNECTIONS * 4, { ms: 600_000, count: total }, async (w, i) => {
      await expectData(conns[w % PARALLEL_CONNECTIONS]!, `update:fill${i}.bench${AT_SIGN} ${VALUE}`);
    });
    const during = sampler.stop();
    ctx.metric({ id: "fill_rate", label: `pipelined updates while storing ${total} keys`, value: fill.perSecond, unit: "ops/s" });
    ctx.metric({ id: "rss_fill_max", label: `server RSS max while storing ${total} keys`, value: during.maxMiB, unit: "MiB" });
    for (const c of conns) c.close();
    await Bun.sleep(ctx.pick(IDLE_SETTLE_MS, IDLE_SETTLE_MS / 3));
    const after = ctx.readRss(srv.child.pid);
    if (after) ctx.metric({ id: "rss_keys", label: `server RSS idle with ${total} keys stored`, value: after.rssMiB, unit: "MiB" });
  },
};
