/**
 * `api` (issue 7): requests/s and p50/p99 of a hono app called over plain HTTP on loopback (the direct path,
 * the app in a child process) and by @sign with `atFetch` once it exists, in one run.
 */
import { fileURLToPath } from "node:url";
import type { BenchContext } from "../context.ts";
import { loadPart } from "../load_part.ts";
import { DIRECT_PATH, NotAvailable, type Scenario } from "../scenario.ts";

/** Concurrent callers in the parallel test. */
const PARALLEL_CALLERS = 16;

async function calls(ctx: BenchContext, callers: number, path: string, call: () => Promise<Response>) {
  const rec = ctx.latency();
  const limits = { ms: ctx.pick(3_000, 400) };
  await ctx.loopConcurrent(callers, { ms: limits.ms / 5 }, async () => void (await (await call()).arrayBuffer()));
  const r = await ctx.loopConcurrent(callers, limits, async () => {
    const t = Bun.nanoseconds();
    const res = await call();
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`GET /hello answered ${res.status}`);
    rec.recordSince(t);
  });
  const h = rec.summary();
  const tag = `${callers}c`;
  ctx.metric({ id: `rps_${tag}_${path}`, label: `requests/s, ${callers} caller(s), ${path}`, value: r.perSecond, unit: "req/s", group: `requests/s, ${callers} caller(s)`, path });
  ctx.metric({ id: `p50_${tag}_${path}`, label: `p50, ${callers} caller(s), ${path}`, value: h.p50, unit: "µs", group: `p50, ${callers} caller(s)`, path, histogram: h });
  ctx.metric({ id: `p99_${tag}_${path}`, label: `p99, ${callers} caller(s), ${path}`, value: h.p99, unit: "µs", group: `p99, ${callers} caller(s)`, path });
}

/** The `api` scenario. */
export const apiScenario: Scenario = {
  name: "api",
  description: "hono app: requests/s and p50/p99 over plain HTTP on loopback vs atFetch by @sign",
  targets: [],
  async run(ctx) {
    const app = await ctx.spawn([process.execPath, fileURLToPath(new URL("../fixtures/api_app.ts", import.meta.url))], { ready: /listening on .*:(\d+)\s*$/ });
    const url = `http://127.0.0.1:${app.ready[1]}/hello`;
    for (const callers of [1, PARALLEL_CALLERS]) {
      ctx.progress(`plain HTTP, ${callers} caller(s)`);
      await calls(ctx, callers, DIRECT_PATH, () => fetch(url));
    }
    try {
      await loadPart("client/index.ts", "atFetch");
      ctx.note("atFetch: not available: client/index.ts exports atFetch but it is not wired into the bench yet");
    } catch (err) {
      if (!(err instanceof NotAvailable)) throw err;
      ctx.note(`atFetch: not available: ${err.message}`);
    }
  },
};
