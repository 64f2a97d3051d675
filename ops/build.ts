/**
 * The production build: every service entry bundled for Bun (minified, shared chunks), the way the Dockerfile
 * ships them. Bundling is also what keeps the services small: it drops the parts of zod and of our modules that
 * a service never calls, which a run from the TypeScript sources loads in full (`bun bench.ts memory` shows both).
 * Run: `bun run build [OUTDIR]` (default `dist/`), then `bun dist/server.js @alice ...`.
 */
import { join } from "node:path";

/** The entries a deployment runs, relative to the repository root. */
export const BUILD_ENTRIES = ["directory.ts", "server.ts", "relay.ts", "client.ts", "ops/healthcheck.ts"];

const ROOT = join(import.meta.dir, "..");

/** Bundles the entries into `outdir` (`<outdir>/server.js`, ...); throws with the build log on failure. */
export async function buildEntries(outdir: string): Promise<void> {
  const result = await Bun.build({ entrypoints: BUILD_ENTRIES.map((e) => join(ROOT, e)), root: ROOT, target: "bun", minify: true, splitting: true, outdir });
  if (!result.success) throw new Error(`bun build failed: ${result.logs.map(String).join("; ")}`);
}

if (import.meta.main) {
  const outdir = process.argv[2] ?? join(ROOT, "dist");
  await buildEntries(outdir);
  process.stdout.write(`built ${BUILD_ENTRIES.length} entries into ${outdir}\n`);
}
