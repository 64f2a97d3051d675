/**
 * Registers many @signs for the directory scenario. Preferred: the directory's own registry API
 * (directory/sqlite_registry.ts openSqliteRegistry + put) on its data directory before the directory starts, so a million
 * registrations take seconds. Fallback: its admin API (PUT /v1/atsigns/:atsign) with requests in flight.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BenchContext } from "./context.ts";
import { loadPart } from "./load_part.ts";
import { NotAvailable } from "./scenario.ts";

/** Admin requests in flight while bulk-loading through the API. */
const ADMIN_REQUESTS_IN_FLIGHT = 32;
/** Address every bench registration points to (never dialled: the bench only resolves names). */
const BENCH_SERVER_HOST = "localhost";
const BENCH_SERVER_PORT = 6464;
/** Registrations between two progress updates. */
const PROGRESS_EVERY = 50_000;

/** The part of directory/registry.ts the bulk load uses. */
interface RegistryLike {
  put(atSign: string, host: string, port: number): Promise<unknown>;
  count(): number;
  close(): Promise<void>;
}

/**
 * Writes `count` registrations (`name(i)`, without `@`) straight into the registry file of `dataDir`. Returns
 * false when the directory exposes no registry API (the caller then uses `registerThroughAdmin`).
 */
export async function loadRegistry(ctx: BenchContext, dataDir: string, count: number, name: (i: number) => string): Promise<boolean> {
  let openRegistry: (path: string) => RegistryLike;
  let file: string;
  try {
    openRegistry = await loadPart<(path: string) => RegistryLike>("directory/sqlite_registry.ts", "openSqliteRegistry");
    file = await loadPart<string>("directory/index.ts", "REGISTRY_FILE");
  } catch (err) {
    if (err instanceof NotAvailable) return false;
    throw err;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const reg = openRegistry(join(dataDir, file));
  try {
    for (let i = 0; i < count; i++) {
      await reg.put(`@${name(i)}`, BENCH_SERVER_HOST, BENCH_SERVER_PORT);
      if (i % PROGRESS_EVERY === 0) ctx.progress(`registering @signs: ${i}/${count}`);
    }
    if (reg.count() < count) throw new Error(`registry holds ${reg.count()} @signs after loading ${count}`);
  } finally {
    await reg.close();
  }
  return true;
}

/** Where a running directory's admin API is. */
export interface DirectoryAdmin {
  adminUrl: string;
  token: string;
}

/** Registers `count` names through the admin API of a running directory. */
export async function registerThroughAdmin(ctx: BenchContext, dir: DirectoryAdmin, count: number, name: (i: number) => string): Promise<void> {
  const body = JSON.stringify({ host: BENCH_SERVER_HOST, port: BENCH_SERVER_PORT });
  const headers = { authorization: `Bearer ${dir.token}`, "content-type": "application/json" };
  const r = await ctx.loopConcurrent(ADMIN_REQUESTS_IN_FLIGHT, { ms: Number.MAX_SAFE_INTEGER, count }, async (_w, i) => {
    const res = await fetch(`${dir.adminUrl}/v1/atsigns/${name(i)}`, { method: "PUT", headers, body });
    if (!res.ok) throw new Error(`PUT /v1/atsigns/${name(i)} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    await res.arrayBuffer();
  });
  if (r.count < count) throw new Error(`registered only ${r.count} of ${count} @signs`);
}
