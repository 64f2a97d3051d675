/**
 * The atServer's Prometheus exposition: the counters of server_metrics.ts plus gauges read at scrape time.
 * Takes a list of @signs' records and shows their sum, so a hosting process reports totals at a cost that
 * does not grow with its series (see server_metrics.ts).
 */
import { expositionWriter, labels, type ExpositionWriter, type Series } from "../../core/metrics/exposition.ts";
import { addHistogram, newHistogram, type Histogram } from "../../core/metrics/histogram.ts";
import { writeProcessMetrics } from "../../core/metrics/process_metrics.ts";
import {
  AUTH_METHODS, AUTH_RESULTS, CONNECTION_KINDS, CONNECTION_REFUSALS, RESULT_LABELS, VERB_LABELS, connectionKind,
  type NotifyCounters, type ServerMetrics, type SweeperCounters,
} from "./server_metrics.ts";

/** Figures read when scraped, not counted. */
export interface ServerGauges {
  /** Open server-to-server sessions. */
  outboundSessions: number;
  /** Sent notifications waiting for delivery. */
  queueDepth: number;
  /** Bytes of the keystore file. */
  keystoreBytes: number;
}

/** One @sign's counters and gauges. */
export interface TenantFigures {
  metrics: ServerMetrics;
  gauges: ServerGauges;
}

const NOTIFY_EVENTS: readonly (keyof NotifyCounters)[] = ["queued", "delivered", "retried", "errored", "quarantined", "expired"];
const SWEEPER_WORK: readonly (keyof SweeperCounters)[] = ["runs", "removed", "failures"];

const sum = (tenants: readonly TenantFigures[], f: (t: TenantFigures) => number) => tenants.reduce((n, t) => n + f(t), 0);

/** Prometheus text of the given @signs' servers, summed. */
export function renderServerMetrics(tenants: readonly TenantFigures[]): string {
  const lines: string[] = [];
  const w = expositionWriter(lines);
  const kinds = Object.fromEntries(CONNECTION_KINDS.map((k) => [k, 0])) as Record<string, number>;
  for (const t of tenants) for (const conn of t.metrics.connections.live) kinds[connectionKind(conn)]!++;
  w.gauges("inlay_server_connections", "Open inbound connections by who they are authenticated as.", CONNECTION_KINDS.map((k) => [labels({ kind: k }), kinds[k]!]));
  w.counter("inlay_server_connections_total", "Inbound connections accepted.", [["", sum(tenants, (t) => t.metrics.connections.accepted)]]);
  w.counter("inlay_server_connections_refused_total", "Inbound connections closed by a limit, by reason.",
    CONNECTION_REFUSALS.map((r) => [labels({ reason: r }), sum(tenants, (t) => t.metrics.connections.refused[r])]));
  const auth: Series[] = [];
  for (const method of AUTH_METHODS) for (const result of AUTH_RESULTS) auth.push([labels({ method, result }), sum(tenants, (t) => t.metrics.auth[method][result])]);
  w.counter("inlay_server_auth_attempts_total", "Authentication attempts by method and result.", auth);
  renderVerbs(w, tenants);
  w.counter("inlay_server_notifications_total", "Sent notifications by event in the delivery queue.",
    NOTIFY_EVENTS.map((e) => [labels({ event: e }), sum(tenants, (t) => t.metrics.notify[e])]));
  w.gauge("inlay_server_notification_queue_depth", "Sent notifications waiting for delivery.", sum(tenants, (t) => t.gauges.queueDepth));
  w.gauge("inlay_server_outbound_sessions", "Open server-to-server sessions to other @signs' servers.", sum(tenants, (t) => t.gauges.outboundSessions));
  w.counter("inlay_server_outbound_sessions_total", "Server-to-server sessions by outcome of opening them.", [
    [labels({ result: "opened" }), sum(tenants, (t) => t.metrics.outbound.opened)],
    [labels({ result: "failed" }), sum(tenants, (t) => t.metrics.outbound.failed)],
  ]);
  w.gauge("inlay_server_keystore_bytes", "Size of the keystore file.", sum(tenants, (t) => t.gauges.keystoreBytes));
  w.counter("inlay_server_expiry_sweeper_total", "Expiry sweeper work: rounds run, expired keys removed, failed rounds.",
    SWEEPER_WORK.map((k) => [labels({ work: k }), sum(tenants, (t) => t.metrics.sweeper[k])]));
  writeProcessMetrics(w);
  return lines.join("\n") + "\n";
}

// Only verbs and results that occurred get series: 31 verbs x 30 results would be ~900 mostly-zero lines.
function renderVerbs(w: ExpositionWriter, tenants: readonly TenantFigures[]): void {
  const counts: Series[] = [];
  const latency: [string, Histogram][] = [];
  for (const verb of VERB_LABELS) {
    const h = newHistogram();
    for (const t of tenants) addHistogram(h, t.metrics.verbs[verb].latency);
    if (h.count === 0) continue;
    latency.push([labels({ verb }), h]);
    RESULT_LABELS.forEach((result, i) => {
      const n = sum(tenants, (t) => t.metrics.verbs[verb].results[i]!);
      if (n > 0) counts.push([labels({ verb, result }), n]);
    });
  }
  w.counter("inlay_server_commands_total", "Commands by verb and result (ok, or the atProtocol error code answered).", counts);
  w.histogram("inlay_server_command_duration_seconds", "Time from a request line to its answer, by verb.", latency);
}
