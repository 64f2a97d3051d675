/**
 * What the relay counts, from metadata only (who, how many bytes, how long — never content), and how it is
 * shown: Prometheus text on the loopback admin port.
 */
import { EXPOSITION_CONTENT_TYPE, expositionWriter } from "../core/metrics/exposition.ts";
import { type GcStats, newGcStats } from "./gc_pacer.ts";
import { type PipeStats, newPipeStats } from "./pipe.ts";

/** Why a leg was closed before it was paired (a metrics label; never sent to the leg). */
export type RefuseReason =
  | "malformed"
  | "oversize"
  | "preauth_timeout"
  | "not_allowed"
  | "unknown_atsign"
  | "bad_signature"
  | "resolver_error"
  | "lookup_throttled"
  | "quota"
  | "mismatch"
  | "duplicate"
  | "capacity"
  | "unpaired_timeout";

/** Why a pair ended. */
export type PairEndReason = "closed" | "half_closed" | "idle_timeout" | "byte_quota" | "queue_overflow" | "stopped";

/** How many legs are in each state right now (read from the relay's tables, never counted apart). */
export interface RelayGauges {
  /** Connections still in the handshake (including those being verified). */
  preAuth: number;
  /** Authenticated legs waiting for their peer. */
  pending: number;
  /** Paired sessions. */
  pairs: number;
}

/** A snapshot of the relay's state and counters. */
export interface RelayStats extends RelayGauges {
  /** Sessions paired since start. */
  pairsTotal: number;
  connectionsTotal: number;
  refused: Record<RefuseReason, number>;
  pairEnds: Record<PairEndReason, number>;
  pipe: PipeStats;
  /** Collections the relay asked for (relay/gc_pacer.ts). */
  gc: GcStats;
}

/** Most @signs given their own metrics labels; the rest are summed under "other" (bounded cardinality). */
export const METRICS_ATSIGNS_MAX = 1_000;

/** Per-@sign totals. */
export interface AtSignUsage {
  sessions: number;
  bytes: number;
  seconds: number;
}

/** The relay's counters; the gauges are not among them (RelayGauges reads them from the tables). */
export interface RelayCounters {
  stats: Omit<RelayStats, keyof RelayGauges>;
  perAtSign: Map<string, AtSignUsage>;
}

/** Zeroed counters. */
export function newRelayCounters(): RelayCounters {
  const refused = {} as Record<RefuseReason, number>;
  for (const r of REFUSE_REASONS) refused[r] = 0;
  const pairEnds = {} as Record<PairEndReason, number>;
  for (const r of PAIR_END_REASONS) pairEnds[r] = 0;
  return {
    stats: { pairsTotal: 0, connectionsTotal: 0, refused, pairEnds, pipe: newPipeStats(), gc: newGcStats() },
    perAtSign: new Map(),
  };
}

const REFUSE_REASONS: RefuseReason[] = [
  "malformed", "oversize", "preauth_timeout", "not_allowed", "unknown_atsign", "bad_signature",
  "resolver_error", "lookup_throttled", "quota", "mismatch", "duplicate", "capacity", "unpaired_timeout",
];
const PAIR_END_REASONS: PairEndReason[] = ["closed", "half_closed", "idle_timeout", "byte_quota", "queue_overflow", "stopped"];

/** Adds a finished session to both @signs' totals. */
export function recordSession(c: RelayCounters, atSigns: string[], bytes: number, seconds: number): void {
  for (const atSign of new Set(atSigns)) {
    const label = c.perAtSign.has(atSign) || c.perAtSign.size < METRICS_ATSIGNS_MAX ? atSign : "other";
    const u = c.perAtSign.get(label) ?? { sessions: 0, bytes: 0, seconds: 0 };
    u.sessions++;
    u.bytes += bytes;
    u.seconds += seconds;
    c.perAtSign.set(label, u);
  }
}

/** Prometheus text exposition of the counters. */
export function renderMetrics(c: RelayCounters, now: RelayGauges): string {
  const s = c.stats;
  const lines: string[] = [];
  const { gauge, counter } = expositionWriter(lines);
  gauge("inlay_relay_preauth_connections", "Connections in the handshake.", now.preAuth);
  gauge("inlay_relay_pending_legs", "Authenticated legs waiting for their peer.", now.pending);
  gauge("inlay_relay_pairs", "Paired sessions.", now.pairs);
  gauge("inlay_relay_queued_bytes", "Bytes queued in user space.", s.pipe.queuedBytes);
  gauge("inlay_relay_paused_reads", "Legs paused by backpressure.", s.pipe.pausedReads);
  counter("inlay_relay_connections_total", "Connections accepted.", [["", s.connectionsTotal]]);
  counter("inlay_relay_pairs_total", "Sessions paired.", [["", s.pairsTotal]]);
  counter("inlay_relay_forwarded_bytes_total", "Bytes forwarded.", [["", s.pipe.bytesForwarded]]);
  counter("inlay_relay_gc_total", "Full garbage collections paced by activity.", [["", s.gc.collections]]);
  counter("inlay_relay_gc_seconds_total", "Time spent in those collections.", [["", Math.round(s.gc.collectMs) / 1000]]);
  counter("inlay_relay_refused_total", "Legs closed before pairing, by reason.", Object.entries(s.refused).map(([r, v]) => [`{reason="${r}"}`, v]));
  counter("inlay_relay_pair_ends_total", "Sessions ended, by reason.", Object.entries(s.pairEnds).map(([r, v]) => [`{reason="${r}"}`, v]));
  const per = [...c.perAtSign.entries()];
  const label = (a: string) => `{atsign="${a.replace(/["\\\n]/g, "_")}"}`;
  counter("inlay_relay_atsign_sessions_total", "Finished sessions per @sign.", per.map(([a, u]) => [label(a), u.sessions]));
  counter("inlay_relay_atsign_bytes_total", "Bytes of finished sessions per @sign.", per.map(([a, u]) => [label(a), u.bytes]));
  counter("inlay_relay_atsign_session_seconds_total", "Duration of finished sessions per @sign.", per.map(([a, u]) => [label(a), Math.round(u.seconds * 1000) / 1000]));
  return lines.join("\n") + "\n";
}

/**
 * The admin HTTP handler: `GET /metrics` (Prometheus text) and `GET /healthz`. Serve it on loopback only.
 * A plain fetch handler, not a router: two fixed routes do not justify loading one into every relay (RSS budget).
 */
export function relayAdminApp(c: RelayCounters, gauges: () => RelayGauges): { fetch(req: Request): Response } {
  return {
    fetch(req) {
      if (req.method !== "GET" && req.method !== "HEAD") return new Response("405 Method Not Allowed", { status: 405, headers: { allow: "GET, HEAD" } });
      const path = new URL(req.url).pathname;
      if (path === "/metrics") return new Response(renderMetrics(c, gauges()), { headers: { "content-type": EXPOSITION_CONTENT_TYPE } });
      if (path === "/healthz") return Response.json({ ok: true, pairs: gauges().pairs });
      return new Response("404 Not Found", { status: 404 });
    },
  };
}
