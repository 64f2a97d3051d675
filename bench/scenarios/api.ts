/**
 * `api` (issue 7): requests/s and p50/p99 of one hono app called over plain HTTP on loopback (the direct
 * path) and by @sign with atFetch (path `atsign`), in one run. In both paths the app runs in a child
 * process; for the @sign path a directory and two atServers (the API's and the caller's) are children too,
 * and each call is: request notification caller → its atServer → the API's atServer → the API host's
 * monitor, then the response the same way back, every hop TLS, bodies AES-encrypted per @sign pair.
 *
 * Large bodies: an 8 MiB POST /echo (8 MiB up, 8 MiB back) over plain HTTP and by @sign over the tunnel path
 * (a relay child; one session, one relayed stream per call, AES-GCM records end to end), in MiB/s each way.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { devCaPath } from "../../core/crypto/dev_ca.ts";
import type { ApiCaller as ApiCallerType, AtClient as AtClientType } from "../../client/index.ts";
import type { BenchContext } from "../context.ts";
import { loadPart } from "../load_part.ts";
import { DIRECT_PATH, type Scenario } from "../scenario.ts";
import { requireEntry, startDirectoryChild, startServerChild } from "../services.ts";

/** Concurrent callers in the parallel test. */
const PARALLEL_CALLERS = 16;
/** The path name of atFetch in the metric groups. */
const ATSIGN_PATH = "atsign";
const API = "@benchapi";
const CALLER = "@benchcaller";
/** Body size of the large-body row. */
const LARGE_BODY_BYTES = 8 * 1024 * 1024;
/** The relay's @sign for the tunnel path (its legs' keys are looked up in the directory). */
const RELAY = "@benchapirelay";

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

/** MiB/s each way of an 8 MiB echo, one call at a time. */
async function largeBodies(ctx: BenchContext, path: string, call: (body: Uint8Array) => Promise<Response>) {
  const body = crypto.getRandomValues(new Uint8Array(LARGE_BODY_BYTES));
  const one = async () => {
    const res = await call(body);
    const back = await res.arrayBuffer();
    if (!res.ok || back.byteLength !== LARGE_BODY_BYTES) throw new Error(`POST /echo answered ${res.status} with ${back.byteLength} bytes`);
  };
  await one(); // warm-up (tunnel session set-up)
  const r = await ctx.loopConcurrent(1, { ms: ctx.pick(3_000, 400), count: ctx.pick(200, 3) }, one);
  const mibPerSecond = (r.perSecond * LARGE_BODY_BYTES) / (1024 * 1024);
  ctx.metric({ id: `large_mibps_${path}`, label: `8 MiB echo, MiB/s each way, ${path}`, value: mibPerSecond, unit: "MiB/s", group: "8 MiB echo, MiB/s each way", path });
}

/** Directory, two atServers, both @signs onboarded, the API host serving by @sign; returns a caller. */
async function atSignPath(ctx: BenchContext): Promise<ApiCallerType> {
  const AtClient = await loadPart<typeof AtClientType>("client/index.ts", "AtClient");
  const ApiCaller = await loadPart<typeof ApiCallerType>("client/index.ts", "ApiCaller");
  const home = ctx.tempDir("inlay-bench-api-");
  const directory = await startDirectoryChild(ctx, home);
  const secrets = { api: crypto.randomUUID(), caller: crypto.randomUUID() };
  await Promise.all([startServerChild(ctx, home, API, secrets.api, directory), startServerChild(ctx, home, CALLER, secrets.caller, directory)]);
  const caFile = devCaPath(home);
  const net = { directory: `${directory.host}:${directory.port}`, ca: directory.ca };
  const keysOf = (a: string) => join(home, "keys", `${a}_key.atKeys`);
  const [api, caller] = await Promise.all([
    AtClient.onboard(API, secrets.api, { ...net, keysFile: keysOf(API) }),
    AtClient.onboard(CALLER, secrets.caller, { ...net, keysFile: keysOf(CALLER) }),
  ]);
  api.client.close();
  ctx.defer(() => caller.client.close());
  const host = fileURLToPath(new URL("../fixtures/api_host.ts", import.meta.url));
  await ctx.spawn([process.execPath, host, API, keysOf(API), net.directory, caFile, CALLER], { env: { ...process.env, INLAY_HOME: home, INLAY_LOG: "warn" }, ready: /api serving as/ });
  const relay = await ctx.spawn([process.execPath, requireEntry("relay.ts"), RELAY, "--host", "127.0.0.1", "--port", "0", "--directory", net.directory, "--ca", caFile], {
    env: { ...process.env, INLAY_HOME: home, INLAY_LOG: "warn" },
    ready: /listening on .*:(\d+)\s*$/,
  });
  const apiCaller = await ApiCaller.open(caller.client, { timeoutMs: 10_000, relay: `127.0.0.1:${relay.ready[1]}` });
  ctx.defer(() => apiCaller.close());
  return apiCaller;
}

export const apiScenario: Scenario = {
  name: "api",
  description: "hono app: requests/s and p50/p99 over plain HTTP on loopback vs atFetch by @sign",
  targets: [],
  async run(ctx) {
    const app = await ctx.spawn([process.execPath, fileURLToPath(new URL("../fixtures/api_app.ts", import.meta.url))], { ready: /listening on .*:(\d+)\s*$/ });
    const url = `http://127.0.0.1:${app.ready[1]}/hello`;
    ctx.progress("@sign path: directory, two atServers, API host");
    const caller = await atSignPath(ctx);
    for (const callers of [1, PARALLEL_CALLERS]) {
      ctx.progress(`plain HTTP, ${callers} caller(s)`);
      await calls(ctx, callers, DIRECT_PATH, () => fetch(url));
      ctx.progress(`atFetch by @sign, ${callers} caller(s)`);
      await calls(ctx, callers, ATSIGN_PATH, () => caller.fetch(API, "/hello"));
    }
    ctx.progress("8 MiB echo over plain HTTP");
    await largeBodies(ctx, DIRECT_PATH, (body) => fetch(`${url.replace(/\/hello$/, "")}/echo`, { method: "POST", body }));
    ctx.progress("8 MiB echo by @sign (tunnel path)");
    await largeBodies(ctx, ATSIGN_PATH, (body) => caller.fetch(API, "/echo", { method: "POST", body }));
    ctx.note(`${ATSIGN_PATH}, 8 MiB echo: bodies above 64 KiB go over the tunnel path (one relayed stream per call through a relay child, AES-256-GCM records, HTTP/1.1 to app.fetch in the API host)`);
    ctx.note(`${ATSIGN_PATH}: each call is two encrypted notifications through two atServers (caller's and API's), TLS on every hop; bodies up to 64 KiB by default`);
  },
};
