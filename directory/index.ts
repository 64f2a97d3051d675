/**
 * The atDirectory: the root wire protocol on TLS plus the admin HTTP API, over one registry: a sqlite file in
 * the data directory (default), or PostgreSQL shared with other directory processes.
 */
import { join } from "node:path";
import { logger } from "../core/log.ts";
import { adminApi, ADMIN_BODY_LIMIT_BYTES } from "./admin_api.ts";
import { loadOrCreateAdminToken } from "../core/admin_token.ts";
import type { Registry } from "./registry.ts";
import type { RegistryCacheLimits } from "./registry_cache.ts";
import { openSqliteRegistry } from "./sqlite_registry.ts";
import { listenRoot, type RootLimits, type RootStats } from "./root_listener.ts";

/** File name of the registry database inside the data directory. */
export const REGISTRY_FILE = "registry.sqlite";
/** Default root protocol port of the reference. */
export const DIRECTORY_PORT_DEFAULT = 64;
/** Default admin API port. */
export const ADMIN_PORT_DEFAULT = 6480;
/** Seconds an admin HTTP connection may stay idle. */
const ADMIN_IDLE_TIMEOUT_S = 10;

/** What `startDirectory` needs; everything but `dataDir` and `tls` has a default. */
export interface DirectoryOptions {
  /** Root protocol address; default 127.0.0.1 (the `directory.ts` entry defaults to 0.0.0.0). */
  host?: string;
  /** Root protocol port; 0 = ephemeral; default 64. */
  port?: number;
  /** Admin API address; default 127.0.0.1. */
  adminHost?: string;
  /** Admin API port; 0 = ephemeral; default 6480. */
  adminPort?: number;
  /** Holds registry.sqlite (unless `postgres` is given) and admin.token. */
  dataDir: string;
  /** Keep the registry in PostgreSQL instead: the URL carries the password (from a 0600 file or the environment). */
  postgres?: { url: string; cache?: Partial<RegistryCacheLimits> };
  /** Admin bearer token; default: read or generated once in `dataDir/admin.token` (0600). */
  token?: string;
  tls: { key: string; cert: string };
  /** Root protocol delays and bounds (tests shorten the 3 s miss delay). */
  limits?: Partial<RootLimits>;
}

/** A running directory: where it listens, its admin token, and how to stop it. */
export interface Directory {
  host: string;
  port: number;
  adminUrl: string;
  token: string;
  /** Root protocol counters. */
  stats(): RootStats;
  stop(): Promise<void>;
}

/** A listener could not bind; the message is one line that names the flag to change. */
export class BindError extends Error {
  override name = "BindError";
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const log = logger("directory");

/**
 * Opens the registry and starts both listeners. Throws BindError when a port is taken or not allowed.
 * @example const dir = await startDirectory({ port: 0, adminPort: 0, dataDir, tls }); await dir.stop();
 */
export async function startDirectory(opts: DirectoryOptions): Promise<Directory> {
  const host = opts.host ?? "127.0.0.1";
  const adminHost = opts.adminHost ?? "127.0.0.1";
  const token = opts.token ?? loadOrCreateAdminToken(opts.dataDir, "directory");
  if (token.trim() === "") throw new RangeError("Cannot start the directory: the admin token is empty");
  const registry = await openRegistry(opts);
  let root: ReturnType<typeof listenRoot> | undefined;
  try {
    root = bind("--port", host, opts.port ?? DIRECTORY_PORT_DEFAULT, (port) =>
      listenRoot({ host, port, tls: opts.tls, lookup: (key) => registry.lookup(key), limits: opts.limits }),
    );
    const app = adminApi(registry, token, root);
    const admin = bind("--admin-port", adminHost, opts.adminPort ?? ADMIN_PORT_DEFAULT, (port) =>
      // reusePort must be explicit: with development:false Bun 1.4.5 sets SO_REUSEPORT, and a second
      // directory would then share the port silently instead of failing with EADDRINUSE.
      Bun.serve({ hostname: adminHost, port, fetch: app.fetch, maxRequestBodySize: ADMIN_BODY_LIMIT_BYTES, idleTimeout: ADMIN_IDLE_TIMEOUT_S, development: false, reusePort: false }),
    );
    const started = root;
    log.info("directory started", { root: `${host}:${started.port}`, admin: admin.url.origin, registered: registry.count() });
    let stopping: Promise<void> | undefined;
    return {
      host,
      port: started.port,
      adminUrl: `http://${hostForUrl(adminHost)}:${admin.port}`,
      token,
      stats: () => started.stats(),
      stop: () =>
        (stopping ??= (async () => {
          started.stop();
          await admin.stop(true);
          await registry.close();
        })()),
    };
  } catch (err) {
    root?.stop();
    await registry.close();
    throw err;
  }
}

/** The store named by the options; PostgreSQL's client is loaded only when asked for. */
async function openRegistry(opts: DirectoryOptions): Promise<Registry> {
  if (!opts.postgres) return openSqliteRegistry(join(opts.dataDir, REGISTRY_FILE));
  const { openPostgresRegistry } = await import("./postgres_registry.ts");
  return openPostgresRegistry(opts.postgres);
}

function bind<T>(flag: string, host: string, port: number, listen: (port: number) => T): T {
  try {
    return listen(port);
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    if (code !== "EACCES" && code !== "EADDRINUSE" && code !== "EADDRNOTAVAIL") throw err;
    const why = { EACCES: "permission denied (ports below 1024 need privileges)", EADDRINUSE: "the port is in use", EADDRNOTAVAIL: "the address is not on this machine" }[code];
    const other = port >= 1024 && port < 65535 ? port + 1 : flag === "--port" ? 6464 : 6481;
    const hint = code === "EADDRNOTAVAIL" ? `try another ${flag === "--port" ? "--host" : "--admin-host"}` : `try another port, e.g. ${flag} ${other}`;
    throw new BindError(`Cannot listen on ${host}:${port}: ${why}; ${hint}`, code);
  }
}

const hostForUrl = (h: string) => (h.includes(":") ? `[${h}]` : h);
