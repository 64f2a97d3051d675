/**
 * startHosting: one process serving every @sign provisioned in a hosting folder (`bun server.ts --hosted DIR`),
 * each on its own TLS port, with the provisioning API on loopback.
 */
import { mkdirSync } from "node:fs";
import { loadOrCreateAdminToken } from "../../core/admin_token.ts";
import { logger } from "../../core/log.ts";
import type { ServerOptions } from "../index.ts";
import type { Hosting } from "./provisioning.ts";
import { provisioningApi } from "./provisioning_api.ts";
import { readTenants, tenantDataDir } from "./tenant_dir.ts";
import { newTenantPool, serveTenant, stopPool, type HostingLimits } from "./tenant_pool.ts";

/** Largest provisioning request body Bun reads before hono's own limits (a tenant file plus headroom). */
const API_MAX_BODY_BYTES = 80 * 1024 * 1024;
/** Idle time (s) of a provisioning API connection. */
const API_IDLE_TIMEOUT_S = 30;

const log = logger("hosting");

/** Options of startHosting. */
export interface HostingOptions extends Pick<ServerOptions, "tls" | "directory" | "directoryAdmin" | "notify" | "enrollment"> {
  /** The hosting folder (DIR/tenants/<@sign>/, DIR/admin.token). */
  dir: string;
  /** Listen address of the tenants' TLS ports; default 0.0.0.0. */
  host?: string;
  /** Host name published in the directory for every tenant; default `localhost`. */
  publicHost?: string;
  /** The provisioning API; host default 127.0.0.1, port 0 picks one. Token: DIR/admin.token unless given. */
  api: { host?: string; port: number; token?: string };
  limits?: Partial<HostingLimits>;
}

/** A running hosting process. */
export interface RunningHosting {
  readonly hosting: Hosting;
  /** The provisioning API and its token. */
  readonly api: { url: string; token: string };
  /** Provisioned @signs that could not be served (their port was taken), with why. */
  readonly failed: { atSign: string; error: string }[];
  stop(): Promise<void>;
}

/**
 * Serves every tenant of `opts.dir` and starts the provisioning API.
 * @example const h = await startHosting({ dir, tls, api: { port: 0 } });
 */
export async function startHosting(opts: HostingOptions): Promise<RunningHosting> {
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const token = opts.api.token ?? loadOrCreateAdminToken(opts.dir, "hosting");
  const pool = newTenantPool(opts.host ?? "0.0.0.0", { tls: opts.tls, directory: opts.directory, notify: opts.notify, enrollment: opts.enrollment }, opts.limits);
  const hosting: Hosting = { dir: opts.dir, publicHost: opts.publicHost ?? "localhost", pool, directoryAdmin: opts.directoryAdmin, busy: new Set() };
  const failed: { atSign: string; error: string }[] = [];
  for (const rec of readTenants(opts.dir)) {
    try {
      serveTenant(pool, rec, tenantDataDir(opts.dir, rec.atSign));
    } catch (err) {
      // One @sign whose port is taken must not keep the others offline.
      failed.push({ atSign: rec.atSign, error: (err as Error).message });
      log.error("cannot serve a tenant", { atSign: rec.atSign, error: (err as Error).message });
    }
  }
  const apiHost = opts.api.host ?? "127.0.0.1";
  const app = provisioningApi(hosting, token);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({ hostname: apiHost, port: opts.api.port, fetch: app.fetch, maxRequestBodySize: API_MAX_BODY_BYTES, idleTimeout: API_IDLE_TIMEOUT_S, development: false, reusePort: false });
  } catch (err) {
    await stopPool(pool);
    throw new Error(`Cannot listen on ${apiHost}:${opts.api.port} for the provisioning API: ${(err as Error).message}; pick another with --api-port (0 = any free port)`);
  }
  const url = `http://${apiHost.includes(":") ? `[${apiHost}]` : apiHost}:${server.port}`;
  log.info("hosting", { tenants: pool.tenants.size, api: url });
  return {
    hosting,
    api: { url, token },
    failed,
    async stop() {
      await server.stop(true);
      await stopPool(pool);
    },
  };
}
