/**
 * startServer: one atServer for one @sign — keystore, server keys, TLS listener, expiry sweeper, and its
 * registration in the directory. The entry (server.ts) only turns flags into these options.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { loadOrCreateAdminToken } from "../core/admin_token.ts";
import { normalizeAtSign } from "../core/atsign.ts";
import { newAuthThrottle } from "./auth_throttle.ts";
import type { ServerContext } from "./context.ts";
import { newDispatcher } from "./dispatch.ts";
import type { EnrollmentLimits } from "./enroll/enrollment_limits.ts";
import { startExpirySweeper } from "./expiry_sweeper.ts";
import type { HttpAnswer } from "./http/request_reader.ts";
import { startListener, type LineHandler, type Listener, type ListenerLimits } from "./listener.ts";
import type { AdminEndpoint } from "./metrics/admin_endpoint.ts";
import { countedHandler } from "./metrics/counted_handler.ts";
import { newServerMetrics, type ServerMetrics } from "./metrics/server_metrics.ts";
import { registerInDirectory } from "./registration.ts";
import { startNotifyService, type NotifyOptions, type NotifyService } from "./notify/notify_service.ts";
import { newRemoteLookup, type RemoteLookup } from "./remote_lookup.ts";
import { ensureServerKeys, isOnboarded, loadOrCreateCramSecret } from "./server_keys.ts";
import { openGuardedKeystore } from "./onboarded_marker.ts";
import { withStoreQuota, type StoreQuota } from "./store/store_quota.ts";
import { logger } from "../core/log.ts";

const log = logger("server");

/** Options of startServer (see docs/INTERFACES: the fixed part, plus optional limits for tests). */
export interface ServerOptions {
  atSign: string;
  /** Listen address; default 0.0.0.0. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Host name published in the directory; default `localhost`. */
  publicHost?: string;
  dataDir: string;
  /** CRAM secret; else read from (or generated into) `dataDir/cram.secret`. */
  cramSecret?: string;
  /** `ca`: the CAs whose client certificates this server accepts from other atServers (server-to-server auth). */
  tls: { key: string; cert: string; ca?: string | string[] };
  /**
   * The root directory and the CAs to trust for it and for other atServers; a function is called on the first
   * lookup (core/net/tls.ts `trustedCasLater`), so a server that never dials out never builds the list.
   */
  directory?: { host: string; port: number; ca: string[] | (() => string[]) };
  /** Registers `publicHost:port` through the directory's admin API when given. */
  directoryAdmin?: { url: string; token: string };
  /** Listener limits (connection counts, idle timeouts, line size). */
  limits?: Partial<ListenerLimits>;
  /** Notification delivery and outbound pool tuning (tests shorten retry pauses). */
  notify?: NotifyOptions;
  /** Enrollment limits (pending lifetime, request rate, OTP back-off and lifetimes). */
  enrollment?: Partial<EnrollmentLimits>;
  /**
   * Accept an empty keystore of an onboarded @sign (server/onboarded_marker.ts): the marker and the CRAM secret
   * file go, and the @sign can be onboarded again with a new secret. Without it such a start is refused.
   */
  resetOnboarding?: boolean;
  /**
   * The admin HTTP port (/metrics, /healthz, /readyz; server/metrics/admin_endpoint.ts); none when absent.
   * Host default 127.0.0.1; token default: read or generated once in `dataDir/admin.token` (0600).
   */
  admin?: { host?: string; port: number; token?: string };
}

/** A running atServer. */
export interface RunningServer {
  atSign: string;
  host: string;
  port: number;
  cramSecret: string;
  /** False until the owner stored a PKAM public key (then CRAM is refused). */
  onboarded(): boolean;
  /** The admin port and the token its /metrics needs; null without `opts.admin`. */
  admin: { url: string; token: string } | null;
  stop(): Promise<void>;
}

/** What one @sign's server state needs (the part of ServerOptions that is not about its listener). */
export type ServerStateOptions = Pick<ServerOptions, "atSign" | "dataDir" | "cramSecret" | "tls" | "directory" | "notify" | "enrollment" | "resetOnboarding"> & {
  /** Open connections of whatever listener serves this @sign (stats id 1). */
  connectionCount(): number;
  /** A ceiling on keys and bytes stored (hosting mode); none when absent. */
  quota?: StoreQuota;
  /** The record this @sign counts in (hosting mode: one for every tenant, kept while their stores close). */
  metrics?: ServerMetrics;
};

/**
 * One @sign's server without its listener: keystore, server keys, sweeper, notifications, and the line handler a
 * listener serves. startServer gives it a listener of its own; hosting mode (server/hosting/) opens and closes
 * it behind a listener it keeps.
 */
export interface ServerState {
  readonly atSign: string;
  readonly cramSecret: string;
  readonly ctx: ServerContext;
  readonly notify: NotifyService;
  /** The counted dispatcher of this @sign. */
  readonly handler: LineHandler;
  close(): void;
}

/**
 * Opens the state of `opts.atSign` in `opts.dataDir` (created 0700 when missing).
 * @example const state = await openServerState({ atSign: "@alice", dataDir, tls, connectionCount: () => 0 });
 */
export async function openServerState(opts: ServerStateOptions): Promise<ServerState> {
  const atSign = normalizeAtSign(opts.atSign);
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const guarded = openGuardedKeystore(opts.dataDir, atSign, opts.resetOnboarding === true);
  if (guarded.wasReset) log.warn("onboarding reset: the keystore was empty; onboard again with the new CRAM secret", { atSign });
  const keystore = opts.quota ? withStoreQuota(guarded.keystore, atSign, opts.quota) : guarded.keystore;
  let cramSecret: string;
  try {
    cramSecret = loadOrCreateCramSecret(opts.dataDir, opts.cramSecret);
    await ensureServerKeys(keystore, atSign, cramSecret);
  } catch (err) {
    keystore.close();
    throw err;
  }
  const metrics = opts.metrics ?? newServerMetrics();
  const sweeper = startExpirySweeper(keystore, metrics.sweeper);
  const ctx: ServerContext = {
    atSign,
    keystore,
    metrics,
    throttle: newAuthThrottle(),
    remote: opts.directory ? lazyRemoteLookup(opts.directory) : null,
    startedAt: Date.now(),
    mtlsChain: opts.tls.cert,
    connectionCount: opts.connectionCount,
    expiryChanged: (t) => sweeper.wake(t),
    ...(opts.enrollment ? { enrollment: opts.enrollment } : {}),
  };
  const notify = startNotifyService(ctx, opts.dataDir, opts.tls, opts.notify);
  ctx.notify = notify;
  const close = () => {
    notify.stop();
    sweeper.stop();
    keystore.close();
  };
  return { atSign, cramSecret, ctx, notify, handler: countedHandler(metrics, newDispatcher(ctx)), close };
}

/**
 * Starts the atServer of `opts.atSign`.
 * @example const s = await startServer({ atSign: "@alice", dataDir, tls, port: 0, host: "127.0.0.1" });
 */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  let connectionCount = () => 0;
  const state = await openServerState({ ...opts, connectionCount: () => connectionCount() });
  const { atSign, cramSecret, ctx, notify } = state;
  const host = opts.host ?? "0.0.0.0";
  let listener: Listener;
  try {
    listener = startListener({ host, port: opts.port ?? 0, tls: opts.tls, limits: opts.limits, handler: state.handler, http: lazyPublicAnswer(ctx) });
  } catch (err) {
    state.close();
    throw err;
  }
  connectionCount = listener.connectionCount;
  let admin: AdminEndpoint | null = null;
  let accepting = true;
  const stop = async () => {
    accepting = false;
    await admin?.stop();
    listener.stop();
    state.close();
  };
  const adminToken = opts.admin ? (opts.admin.token ?? loadOrCreateAdminToken(opts.dataDir, "server")) : "";
  try {
    if (opts.admin) {
      // Loaded only with an admin port: a server without one does not carry the Prometheus rendering.
      const { serverObservable, startAdminEndpoint } = await import("./metrics/admin_endpoint.ts");
      admin = startAdminEndpoint({ ...opts.admin, token: adminToken }, serverObservable(ctx, notify, () => accepting));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  if (opts.directoryAdmin) {
    try {
      await registerInDirectory(opts.directoryAdmin, atSign, opts.publicHost ?? "localhost", listener.port);
    } catch (err) {
      await stop();
      throw err;
    }
  }
  const adminView = admin ? { url: admin.url, token: adminToken } : null;
  return { atSign, host, port: listener.port, cramSecret, onboarded: () => isOnboarded(ctx.keystore), admin: adminView, stop };
}

/**
 * The HTTP interface's answerer, loaded at the first request over ALPN http/1.1 (most servers never get one, and
 * every atServer would otherwise load it at start).
 */
function lazyPublicAnswer(ctx: ServerContext): HttpAnswer {
  return async (req) => (await import("./http/public_records.ts")).answerPublicRequest(ctx, req);
}

/** The remote lookup, made on first use, when its CA list (system roots: several MiB RSS) is first needed. */
function lazyRemoteLookup(directory: { host: string; port: number; ca: string[] | (() => string[]) }): RemoteLookup {
  let remote: RemoteLookup | undefined;
  const made = () => (remote ??= newRemoteLookup({ host: directory.host, port: directory.port, ca: typeof directory.ca === "function" ? directory.ca() : directory.ca }));
  return {
    lookupPublic: (key, atSign) => made().lookupPublic(key, atSign),
    resolve: (atSign) => made().resolve(atSign),
    forget: (atSign) => made().forget(atSign),
    get ca() {
      return made().ca;
    },
  };
}
