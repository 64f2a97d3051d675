/**
 * `memory`: idle RSS of each service as users run it — its entry from the TypeScript sources (`bun server.ts`)
 * and the bundled build the Dockerfile ships (`bun build --minify --splitting`, what runs in production) — next
 * to the bare Bun runtime, which is the floor every service starts from, and the cost of each big dependency on
 * its own, so a service over its budget shows where the memory goes.
 */
import { join } from "node:path";
import { buildEntries } from "../../ops/build.ts";
import type { BenchContext } from "../context.ts";
import { repoPath } from "../load_part.ts";
import { DIRECT_PATH, NotAvailable, type Scenario } from "../scenario.ts";
import { IDLE_SETTLE_MS, requireEntry, serviceEnv, startDirectoryChild, startServerChild, type ServiceChild } from "../services.ts";

const GROUP = "idle RSS";
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
  targets: [
    { metric: "rss_idle_server", op: "<=", value: 40, unit: "MiB", source: "issue 2" },
    { metric: "rss_idle_server_bundled", op: "<=", value: 40, unit: "MiB", source: "issue 2" },
  ],
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
    await idleServices(ctx, home, "", "", sources);
    ctx.progress("bundling the entries as the Dockerfile does (ops/build.ts)");
    const dist = ctx.tempDir("inlay-bench-dist-");
    await buildEntries(dist);
    const bundled = { server: join(dist, "server.js"), directory: join(dist, "directory.js"), relay: join(dist, "relay.js") };
    await idleServices(ctx, ctx.tempDir(), "_bundled", " (bundled)", bundled);
  },
};

/** Idle RSS of the directory, an atServer and the relay started from `entries`, each alone. */
async function idleServices(ctx: BenchContext, home: string, idSuffix: string, labelSuffix: string, entries: { server: string; directory: string; relay: string }) {
  const path = (p: string) => p + idSuffix.replace("_", " ");
  await idleRss(ctx, `rss_idle_directory${idSuffix}`, `directory${labelSuffix}`, path("directory"), () => startDirectoryChild(ctx, home, undefined, entries.directory));
  await idleRss(ctx, `rss_idle_server${idSuffix}`, `atServer${labelSuffix}`, path("server"), () => startServerChild(ctx, home, "@benchmem", crypto.randomUUID(), undefined, entries.server));
  // The relay looks keys up only when legs arrive, so it starts without a directory to talk to.
  await idleRss(ctx, `rss_idle_relay${idSuffix}`, `relay${labelSuffix}`, path("relay"), async () => ({
    child: await ctx.spawn([process.execPath, entries.relay, "@benchmemrelay", "--host", "127.0.0.1", "--port", "0", "--admin-port", "0", "--directory", "127.0.0.1:1"], {
      env: serviceEnv(home),
      ready: /relay listening on/,
    }),
  }));
}
