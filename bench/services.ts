/**
 * Inlay services run the way users run them, as child processes of their entries (`bun server.ts ...`), so
 * their RSS is their own and they get their own core. Everything lives in a temp INLAY_HOME on 127.0.0.1.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { trustedCas } from "../core/net/tls.ts";
import type { BenchContext, Child } from "./context.ts";
import { repoPath } from "./load_part.ts";
import { freePort } from "./peers.ts";
import { NotAvailable } from "./scenario.ts";

/** A service child and how to reach it. */
export interface ServiceChild {
  child: Child;
  host: string;
  port: number;
  /** The CAs a client must trust (system roots + this run's dev CA). */
  ca: string[];
}

/** Environment for children: a private INLAY_HOME, warnings only. */
export function serviceEnv(home: string, extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { ...process.env, INLAY_HOME: home, INLAY_LOG: "warn", ...extra };
}

/** How to run a service child other than from its TypeScript entry: a bundled entry file, extra environment. */
export interface ChildRun {
  entry?: string;
  env?: Record<string, string>;
}

/** Throws NotAvailable when an entry file does not exist yet. */
export function requireEntry(entry: string): string {
  const file = repoPath(entry);
  if (!existsSync(file)) throw new NotAvailable(`${entry} is not built yet`);
  return file;
}

/**
 * `bun server.ts <atSign>` on 127.0.0.1, ephemeral port, with a known CRAM secret. With `directory` it
 * registers 127.0.0.1:port there and finds other @signs through it; without, it is registered nowhere.
 * `run` may name a bundled build of server.ts and extra environment (the memory scenario measures both).
 */
export async function startServerChild(
  ctx: BenchContext,
  home: string,
  atSign: string,
  cramSecret: string,
  directory?: DirectoryChild,
  run: ChildRun = {},
): Promise<ServiceChild> {
  const entry = run.entry ?? requireEntry("server.ts");
  const where = directory
    ? ["--public-host", "127.0.0.1", "--directory", `${directory.host}:${directory.port}`, "--directory-admin", directory.adminUrl]
    : [];
  const child = await ctx.spawn([process.execPath, entry, atSign, "--host", "127.0.0.1", "--port", "0", "--data", join(home, "servers", atSign), ...where], {
    env: serviceEnv(home, { INLAY_CRAM_SECRET: cramSecret, ...(directory ? { INLAY_TOKEN: directory.token } : {}), ...run.env }),
    ready: /listening on .*:(\d+)\s*$/,
  });
  return { child, host: "127.0.0.1", port: Number(child.ready[1]), ca: trustedCas({ home }) };
}

/** How long a fresh child is left alone before its idle RSS is read (start-up garbage settles). */
export const IDLE_SETTLE_MS = 1_000;

/** A directory child with its admin API address and token. */
export interface DirectoryChild extends ServiceChild {
  adminUrl: string;
  token: string;
}

/**
 * `bun directory.ts` on 127.0.0.1 with an ephemeral root port, a free admin port and a known admin token.
 * `run` may name a bundled build of the entry and extra environment (the memory scenario measures both).
 */
export async function startDirectoryChild(ctx: BenchContext, home: string, dataDir = join(home, "directory"), run: ChildRun = {}): Promise<DirectoryChild> {
  const entry = run.entry ?? requireEntry("directory.ts");
  const adminPort = freePort();
  const token = crypto.randomUUID();
  const child = await ctx.spawn(
    [process.execPath, entry, "--host", "127.0.0.1", "--port", "0", "--admin-port", String(adminPort), "--data", dataDir],
    { env: serviceEnv(home, { INLAY_TOKEN: token, ...run.env }), ready: /listening on .*:(\d+)\s*$/ },
  );
  return { child, host: "127.0.0.1", port: Number(child.ready[1]), ca: trustedCas({ home }), adminUrl: `http://127.0.0.1:${adminPort}`, token };
}
