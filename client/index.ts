/**
 * The Inlay client SDK: `AtClient` (onboarding, PKAM-authenticated connection, data API over atKey names
 * with the atSDK encryption conventions) and its typed errors.
 * @example
 * ```ts
 * import { AtClient } from "./client/index.ts";
 * const alice = await AtClient.open({ atSign: "@alice", directory: "localhost:6464" });
 * await alice.put("@bob:phone.wavi", "+1-555");
 * alice.close();
 * ```
 * @module
 */

/** The client and its options. */
export { AtClient, atKeysPath, pkamWith, type ConnectOptions, type GetResult, type OnboardOptions, type OpenOptions, type PutOptions } from "./at_client.ts";
/** Values, metadata and timing options of the data API. */
export type { AtValue } from "./data/value_crypto.ts";
export type { RecordMeta } from "./data/record.ts";
export type { TimingOptions } from "./data/commands.ts";
/** atKey names as the SDK accepts them. */
export { parseKeyRef, formatKey, type KeyRef } from "./data/key_name.ts";
/** Notifications: sending, delivery status, and the monitor (async iterator of decrypted notifications). */
export type { NotifyOptions, NotificationStatus } from "./notify/send_notify.ts";
export { AtMonitor, type MonitorOptions } from "./monitor/at_monitor.ts";
export type { AtNotification } from "./monitor/notification.ts";
/** Multi-device sync: a local cache per device, pulled from and pushed to the commit log. */
export { AtSync, syncCachePath, type SyncReport, type WatchOptions } from "./sync/at_sync.ts";
/** HTTP APIs served by an @sign with no open port (issue 7): serving a hono app, calling it. */
export {
  ApiCaller,
  atFetch,
  AtFetchError,
  serveApi,
  type ApiCallerOptions,
  type AtApiEnv,
  type AtFetchFailure,
  type AtFetchOptions,
  type ServeApiOptions,
  type ServedApi,
} from "./api/serve/index.ts";
/** The connection layer, for parts that speak the atProtocol directly (bench, relay). */
export { AtConnection } from "./connection/at_connection.ts";
export { Session, type SessionOptions } from "./connection/session.ts";
export { rootResolver, type HostPort, type RootResolver } from "./connection/root_lookup.ts";
export { cramAuthenticate, pkamAuthenticate, type Authenticator } from "./auth/authenticate.ts";
/** Typed errors carrying the atProtocol code. */
export {
  AtAuthError,
  AtClientError,
  AtCryptoError,
  AtKeyNotFoundError,
  AtNetworkError,
  AtServerError,
  AtUsageError,
  type AtErrorKind,
} from "./errors.ts";
