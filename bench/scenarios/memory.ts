/**
 * `memory`: idle RSS of each service as users run it — its entry from the TypeScript sources (`bun server.ts`)
 * and the build the Dockerfile ships (ops/build.ts bundles, run with PRODUCTION_ENV) — next to the bare Bun
 * runtime, which is the floor every service starts from, and the cost of each big dependency on its own, so a
 * service over its budget shows where the memory goes.
 *
 * The shipped build is measured twice in the same INLAY_HOME: at its first start, which also makes the dev CA,
 * the server's keys and its certificate, and after a restart, the state a deployed service idles in. Issue 2's
 * target (the reference atServer container is capped at 50 MB) is checked on the latter.
 */
import { join } from "node:path";
import { PRODUCTION_ENV, buildEntries } from "../../ops/build.ts";
import type { BenchContext } from "../context.ts";
import { repoPath } from "../load_part.ts";
import { DIRECT_PATH, NotAvailable, type Scenario } from "../scenario.ts";
import { type ChildRun, IDLE_SETTLE_MS, requireEntry, serviceEnv, startDirectoryChild, startServerChild, type ServiceChild } from "../services.ts";

const GROUP = "idle RSS";
/** CRAM secret of the measured atServer (it is never onboarded; any fixed value does). */
const MEMORY_CRAM_SECRET = "0".repeat(64);
/** Dependencies the services load at start, measured one at a time on the bare runtime. */
const IMPORT_PROBES = ["node:crypto", "bun:sqlite", "hono", "zod", "zod/mini", "@noble/curves/nist.js"];

async function idleRss(ctx: BenchContext, id: string, label: string, path: string, start: () => Promise<ServiceChild | { child: ServiceChild["child"] }>) {
  ctx.progress(`starting ${label}`);
  let svc;
  try {
    svc = await start();
  } catch (err) {
    if (!(err instanceof NotAvailable)) throw err;
    ctx.note(`${label}: not available: ${err.message}`);
    return;
  }
  await Bun.sleep(ctx.pick(IDLE_SETTLE_MS, IDLE_SETTLE_MS / 3));
  const r = ctx.readRss(svc.child.pid);
  if (r) ctx.metric({ id, label, value: r.rssMiB, unit: "MiB", group: GROUP, path });
  await svc.child.stop();
}

/** The `memory` scenario. */
export const memoryScenario: Scenario = {
  name: "memory",
  description: "idle RSS of each service (child process of its entry) next to the bare Bun runtime",
  targets: [{ metric: "rss_idle_server_bundled", op: "<=", value: 40, unit: "MiB", source: "issue 2" }],
  async run(ctx) {
    const home = ctx.tempDir();
    await idleRss(ctx, "rss_idle_runtime", "bare Bun runtime", DIRECT_PATH, async () => ({
      child: await ctx.spawn([process.execPath, "-e", "console.log('ready'); setInterval(() => {}, 1 << 30)"], { ready: /ready/ }),
    }));
    // What single dependencies cost on top of the bare runtime: where a service's idle RSS comes from.
    for (const spec of IMPORT_PROBES) {
      const id = `rss_import_${spec.replace(/[^a-z0-9]+/gi, "_")}`;
      await idleRss(ctx, id, `bare Bun runtime + import "${spec}"`, `+ ${spec}`, async () => ({
        child: await ctx.spawn([process.execPath, "-e", `await import(${JSON.stringify(spec)}); console.log('ready'); setInterval(() => {}, 1 << 30)`], {
          cwd: repoPath("."),
          ready: /ready/,
        }),
      }));
    }
    const sources = { server: requireEntry("server.ts"), directory: requireEntry("directory.ts"), relay: requireEntry("relay.ts") };
    await idleServices(ctx, home, "", "", { server: { entry: sources.server }, directory: { entry: sources.directory }, relay: { entry: sources.relay } });
    ctx.progress("bundling the entries as the Dockerfile does (ops/build.ts)");
    const dist = ctx.tempDir("inlay-bench-dist-");
    await buildEntries(dist);
    const shipped = (file: string): ChildRun => ({ entry: join(dist, file), env: PRODUCTION_ENV });
    const bundled = { server: shipped("server.js"), directory: shipped("directory.js"), relay: shipped("relay.js") };
    const bundledHome = ctx.tempDir();
    await idleServices(ctx, bundledHome, "_bundled_first", " (shipped build, first start)", bundled);
    await idleServices(ctx, bundledHome, "_bundled", " (shipped build, restarted)", bundled);
  },
};

/** Idle RSS of the directory, an atServer and the relay started as `runs` says, each alone, all in `home`. */
async function idleServices(ctx: BenchContext, home: string, idSuffix: string, labelSuffix: string, runs: { server: ChildRun; directory: ChildRun; relay: ChildRun }) {
  const path = (p: string) => p + idSuffix.replaceAll("_", " ");
  await idleRss(ctx, `rss_idle_directory${idSuffix}`, `directory${labelSuffix}`, path("directory"), () => startDirectoryChild(ctx, home, undefined, runs.directory));
  // The same @sign and secret in every call: a restart finds the keys and certificate of the first start.
  await idleRss(ctx, `rss_idle_server${idSuffix}`, `atServer${labelSuffix}`, path("server"), () => startServerChild(ctx, home, "@benchmem", MEMORY_CRAM_SECRET, undefined, runs.server));
  // The relay looks keys up only when legs arrive, so it starts without a directory to talk to.
  await idleRss(ctx, `rss_idle_relay${idSuffix}`, `relay${labelSuffix}`, path("relay"), async () => ({
    child: await ctx.spawn([process.execPath, runs.relay.entry!, "@benchmemrelay", "--host", "127.0.0.1", "--port", "0", "--admin-port", "0", "--directory", "127.0.0.1:1"], {
      env: serviceEnv(home, runs.relay.env),
      ready: /relay listening on/,
    }),
  }));
}
