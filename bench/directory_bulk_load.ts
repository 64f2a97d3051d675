/**
 * Registers many @signs in a running directory: through its admin API (PUT /v1/atsigns/:atsign), with
 * several requests in flight.
 */
import type { BenchContext } from "./context.ts";

/** Admin requests in flight while bulk-loading. */
const ADMIN_REQUESTS_IN_FLIGHT = 32;
/** Address every bench registration points to (never dialled: the bench only resolves names). */
const BENCH_SERVER_HOST = "localhost";
const BENCH_SERVER_PORT = 6464;

/** Where the directory keeps its data and how to reach its admin API. */
export interface DirectoryAdmin {
  dataDir: string;
  adminUrl: string;
  token: string;
}

/** Registers `count` names (`name(i)`, without `@`); returns how it was done, for the report. */
export async function bulkRegister(ctx: BenchContext, dir: DirectoryAdmin, count: number, name: (i: number) => string): Promise<string> {
  const body = JSON.stringify({ host: BENCH_SERVER_HOST, port: BENCH_SERVER_PORT });
  const headers = { authorization: `Bearer ${dir.token}`, "content-type": "application/json" };
  const r = await ctx.loopConcurrent(ADMIN_REQUESTS_IN_FLIGHT, { ms: Number.MAX_SAFE_INTEGER, count }, async (_w, i) => {
    const res = await fetch(`${dir.adminUrl}/v1/atsigns/${name(i)}`, { method: "PUT", headers, body });
    if (!res.ok) throw new Error(`PUT /v1/atsigns/${name(i)} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    await res.arrayBuffer();
  });
  if (r.count < count) throw new Error(`registered only ${r.count} of ${count} @signs`);
  return "admin API";
}
