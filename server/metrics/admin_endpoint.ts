/**
 * The atServer's admin HTTP port: /metrics, /healthz, /readyz (core/metrics/admin_routes.ts), on loopback by
 * default, /metrics behind the bearer token in `dataDir/admin.token` (0600, made on first start). Off unless
 * an admin port is given: several atServers share a machine, so no fixed port would do for all of them.
 */
import { logger } from "../../core/log.ts";
import { adminRoutes, type Observable } from "../../core/metrics/admin_routes.ts";
import type { ServerContext } from "../context.ts";
import type { NotifyService } from "../notify/notify_service.ts";
import { renderServerMetrics } from "./render.ts";

/** Seconds an admin HTTP connection may stay idle. */
const ADMIN_IDLE_TIMEOUT_S = 10;
/** Largest request body read (the routes take none). */
const ADMIN_BODY_LIMIT_BYTES = 1024;

const log = logger("server");

/** Where the admin port listens and the token /metrics needs. */
export interface AdminEndpointOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  token: string;
}

/** A running admin port. */
export interface AdminEndpoint {
  url: string;
  stop(): Promise<void>;
}

/** The server `ctx` as the routes see it; `accepting` is false once the listener stopped. */
export function serverObservable(ctx: ServerContext, notify: NotifyService, accepting: () => boolean): Observable {
  return {
    metrics: () =>
      renderServerMetrics([
        { metrics: ctx.metrics, gauges: { outboundSessions: notify.pool.count(), queueDepth: notify.store.pendingCount(), keystoreBytes: ctx.keystore.sizeBytes() } },
      ]),
    health: () => ({ atSign: ctx.atSign }),
    async readiness() {
      const problems: string[] = [];
      if (!accepting()) problems.push("listener stopped");
      try {
        ctx.keystore.lastCommitId();
        notify.store.pendingCount();
      } catch {
        problems.push("store unavailable");
      }
      // The directory is needed to reach any other @sign; resolving our own @sign also shows we are registered.
      if (ctx.remote) {
        try {
          await ctx.remote.resolve(ctx.atSign);
        } catch {
          problems.push("directory unreachable or this @sign not registered");
        }
      }
      return problems;
    },
  };
}

/**
 * Starts the admin port. Throws with a one-line message that names --admin-port when it cannot bind.
 * @example const admin = startAdminEndpoint({ port: 0, token }, serverObservable(ctx, notify, () => true));
 */
export function startAdminEndpoint(opts: AdminEndpointOptions, service: Observable): AdminEndpoint {
  const host = opts.host ?? "127.0.0.1";
  const routes = adminRoutes(service, opts.token, "inlay-server");
  let server: ReturnType<typeof Bun.serve>;
  try {
    // reusePort must be explicit: with development:false Bun sets SO_REUSEPORT and a second server would share the port.
    server = Bun.serve({
      hostname: host,
      port: opts.port,
      fetch: (req) => routes(req) ?? Response.json({ error: `no route ${req.method} ${new URL(req.url).pathname}` }, { status: 404 }),
      maxRequestBodySize: ADMIN_BODY_LIMIT_BYTES,
      idleTimeout: ADMIN_IDLE_TIMEOUT_S,
      development: false,
      reusePort: false,
    });
  } catch (err) {
    throw new Error(`Cannot listen on ${host}:${opts.port} for the admin port: ${(err as Error).message}; pick another with --admin-port (0 = any free port)`);
  }
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${server.port}`;
  log.info("admin port listening", { url });
  return { url, stop: () => server.stop(true) };
}
