/**
 * What the directory counts and how it is shown on its admin API's /metrics. Lookup figures come from the root
 * listener's own counters (fields it increments anyway); nothing here carries an @sign or an address.
 */
import type { Observable } from "../core/metrics/admin_routes.ts";
import { expositionWriter, labels, type ExpositionWriter, type Series } from "../core/metrics/exposition.ts";
import { writeProcessMetrics } from "../core/metrics/process_metrics.ts";
import type { Registry } from "./registry.ts";
import type { RootListener } from "./root_listener.ts";

/** What an admin API call asked for. */
export type AdminOperation = "register" | "read" | "delete" | "list" | "other";
/** How it ended, by HTTP status class. */
export type AdminResult = "ok" | "bad_request" | "unauthorized" | "not_found" | "error";

const OPERATIONS: readonly AdminOperation[] = ["register", "read", "delete", "list", "other"];
const RESULTS: readonly AdminResult[] = ["ok", "bad_request", "unauthorized", "not_found", "error"];

/** Admin API calls by operation and result. */
export type AdminCalls = Record<AdminOperation, Record<AdminResult, number>>;

/** Zeroed admin call counters. */
export function newAdminCalls(): AdminCalls {
  const calls = {} as AdminCalls;
  for (const op of OPERATIONS) calls[op] = { ok: 0, bad_request: 0, unauthorized: 0, not_found: 0, error: 0 };
  return calls;
}

/** Counts one finished admin call. */
export function countAdminCall(calls: AdminCalls, method: string, path: string, status: number): void {
  const one = /^\/v1\/atsigns\/[^/]+$/.test(path);
  const op: AdminOperation =
    method === "PUT" && one ? "register" : method === "GET" && one ? "read" : method === "DELETE" && one ? "delete" : method === "GET" && path === "/v1/atsigns" ? "list" : "other";
  const result: AdminResult =
    status < 400 ? "ok" : status === 401 ? "unauthorized" : status === 404 ? "not_found" : status < 500 ? "bad_request" : "error";
  calls[op][result]++;
}

/** The root listener's figures, when the API serves beside one (the API alone, in tests, has none). */
export type RootView = Pick<RootListener, "stats" | "connectionStates">;

/**
 * The directory as /metrics, /healthz and /readyz see it.
 * @example const routes = adminRoutes(directoryObservable(registry, root, calls), token, "inlay-directory");
 */
export function directoryObservable(registry: Registry, root: RootView | null, admin: AdminCalls): Observable {
  return {
    metrics: () => renderDirectoryMetrics(registry.count(), root, admin),
    health: () => ({ count: registry.count() }),
    async readiness() {
      try {
        await registry.ping();
        return [];
      } catch {
        return ["registry unavailable"];
      }
    },
  };
}

/** Prometheus text of the directory. */
export function renderDirectoryMetrics(registered: number, root: RootView | null, admin: AdminCalls): string {
  const lines: string[] = [];
  const w = expositionWriter(lines);
  if (root) renderRoot(w, root);
  w.gauge("inlay_directory_registered_atsigns", "Registered @signs.", registered);
  const calls: Series[] = [];
  for (const op of OPERATIONS) for (const result of RESULTS) calls.push([labels({ operation: op, result }), admin[op][result]]);
  w.counter("inlay_directory_admin_requests_total", "Admin API /v1 requests by operation and result.", calls);
  writeProcessMetrics(w);
  return lines.join("\n") + "\n";
}

function renderRoot(w: ExpositionWriter, root: RootView): void {
  const r = root.stats();
  const lookups: Series[] = [
    [labels({ result: "found" }), r.found],
    [labels({ result: "not_found" }), r.misses - r.throttled],
    [labels({ result: "throttled" }), r.throttled],
    [labels({ result: "error" }), r.lookups - r.found - r.misses],
  ];
  w.counter("inlay_directory_lookups_total", "Root lookups by result (throttled: a repeated miss, answered late or by hanging up).", lookups);
  w.histogram("inlay_directory_lookup_duration_seconds", "Time the registry took to answer a lookup.", [["", r.lookupSeconds]]);
  w.gauges("inlay_directory_connections", "Open root connections by state.", Object.entries(root.connectionStates()).map(([state, n]) => [labels({ state }), n]));
  w.counter("inlay_directory_connections_total", "Root connections accepted.", [["", r.connections]]);
  w.counter("inlay_directory_connections_closed_total", "Root connections closed by a limit, by reason.", [
    [labels({ reason: "capacity" }), r.refused],
    [labels({ reason: "overflow" }), r.overflows],
    [labels({ reason: "timeout" }), r.timeouts],
  ]);
}
