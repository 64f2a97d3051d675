/**
 * Everything a verb handler may use besides its connection: the server's @sign, its keystore, the auth
 * throttle, the remote-lookup client and a few counters. One per running server.
 */
import type { AuthThrottle } from "./auth_throttle.ts";
import type { ServerMetrics } from "./metrics/server_metrics.ts";
import type { NotifyService } from "./notify/notify_service.ts";
import type { EnrollmentLimits } from "./enroll/enrollment_limits.ts";
import type { RemoteLookup } from "./remote_lookup.ts";
import type { Keystore } from "./store/keystore.ts";

/** Shared state of one running atServer. */
export interface ServerContext {
  /** Canonical own @sign, e.g. `@alice`. */
  readonly atSign: string;
  readonly keystore: Keystore;
  readonly throttle: AuthThrottle;
  /** Fetches another @sign's public data from its server; null when no directory is configured. */
  readonly remote: RemoteLookup | null;
  readonly startedAt: number;
  /** Counters for /metrics (server/metrics/). */
  readonly metrics: ServerMetrics;
  /** The PEM chain this server presents as its client certificate to other atServers (`info:mtls`); loaded at start. */
  readonly mtlsChain?: string;
  /** Open inbound connections (stats id 1). */
  connectionCount(): number;
  /** Call after a write that sets an expiry, so the sweeper can wake up earlier. */
  expiryChanged(expiresAt: number): void;
  /** Overrides of the enrollment limits (pending lifetime, rate limits, OTP lifetimes). */
  readonly enrollment?: Partial<EnrollmentLimits>;
  /** Notifications, monitors and server-to-server sessions; set once the server started them. */
  notify?: NotifyService;
  /** Set when the owner last authenticated (stats id 8). */
  lastLoginAt?: number;
  /** Set when the owner last authenticated with PKAM (stats id 10). */
  lastPkamAt?: number;
}
