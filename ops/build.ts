/**
 * The production build: every service entry bundled for Bun (minified, shared chunks), the way the Dockerfile
 * ships them. Bundling is also what keeps the services small: it drops the parts of zod and of our modules that
 * a service never calls, which a run from the TypeScript sources loads in full (`bun bench.ts memory` shows both).
 * Run: `bun run build [OUTDIR]` (default `dist/`), then `BUN_JSC_thresholdForJITAfterWarmUp=10000 bun dist/server.js
 * @alice ...` (PRODUCTION_ENV below).
 */
import { join } from "node:path";

/** The entries a deployment runs, relative to the repository root. */
export const BUILD_ENTRIES = ["directory.ts", "server.ts", "relay.ts", "client.ts", "ops/healthcheck.ts"];

/**
 * The environment the production image runs the bundles with (the Dockerfile sets the same; a test keeps the two
 * in step). JavaScriptCore compiles a function to machine code after ~500 calls by default, so the code a service
 * runs a few hundred times while starting (option parsing, certificate and key handling, schema set-up) is
 * compiled once and never used again. At 10,000 only the request paths that stay hot get compiled. Measured: the
 * bundled atServer idles ~3.5 MiB smaller (45.2 -> 41.8 MiB before leaves were kept); `bun bench.ts server`
 * throughput within run-to-run noise (update 21.4k vs 20.3k/s, llookup 37.8k vs 39.7k/s on one connection).
 */
export const PRODUCTION_ENV: Record<string, string> = { BUN_JSC_thresholdForJITAfterWarmUp: "10000" };

const ROOT = join(import.meta.dir, "..");

/**
 * Bundles `entries` (default: the deployed ones) into `outdir` (`<outdir>/server.js`, ...); throws with the build
 * log on failure. The bench builds its relay fixture the same way, to measure the relay as it ships.
 *
 * One build per entry, each split only at its own dynamic imports: split across all entries together, the
 * atServer's start graph came in 25 chunks (one for every mix of entries sharing a module), and each module
 * costs Bun ~25 KiB RSS of its own. Measured (restarted atServer, idle): 40.0 -> 39.6 MiB with 10 chunks.
 * Chunks are named by their content, so entries that share one write the same file.
 */
export async function buildEntries(outdir: string, entries: string[] = BUILD_ENTRIES): Promise<void> {
  for (const entry of entries) {
    const result = await Bun.build({ entrypoints: [join(ROOT, entry)], root: ROOT, target: "bun", minify: true, splitting: true, outdir });
    if (!result.success) throw new Error(`bun build failed: ${result.logs.map(String).join("; ")}`);
  }
}

if (import.meta.main) {
  const outdir = process.argv[2] ?? join(ROOT, "dist");
  await buildEntries(outdir);
  process.stdout.write(`built ${BUILD_ENTRIES.length} entries into ${outdir}\n`);
}
