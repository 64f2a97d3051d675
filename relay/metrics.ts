/**
 * What the relay counts, from metadata only (who, how many bytes, how long — never content), and how it is
 * shown: Prometheus text on the loopback admin port.
 */
import { constantTimeEqual } from "../core/crypto/constant_time_equal.ts";
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
  | "unpaired_timeout"
  /** The relay is draining and the leg is not a stream of a session it carries (the leg is told so). */
  | "draining"
  /** Closed at accept: its address or prefix had its share of failed legs (relay/penalty_box.ts). */
  | "penalized";

/** Why a pair ended. */
export type PairEndReason = "closed" | "half_closed" | "idle_timeout" | "byte_quota" | "queue_overflow" | "stopped" | "drained";

/** How many legs are in each state right now (read from the relay's tables, never counted apart). */
export interface RelayGauges {
  /** Connections still in the handshake (including those being verified). */
  preAuth: number;
  /** Authenticated legs waiting for their peer. */
  pending: number;
  /** Paired sessions. */
  pairs: number;
  /** Draining: no new sessions (relay/index.ts RelayHandle.drain). */
  draining: boolean;
}

/** A snapshot of the relay's state and counters. */
export interface RelayStats extends RelayGauges {
  /** Sessions paired since start. */
  pairsTotal: number;
  connectionsTotal: number;
  /** Probes answered (core/relay/probe_relay.ts: tunnels measuring a fleet). */
  probesTotal: number;
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
    stats: { pairsTotal: 0, connectionsTotal: 0, probesTotal: 0, refused, pairEnds, pipe: newPipeStats(), gc: newGcStats() },
    perAtSign: new Map(),
  };
}

const REFUSE_REASONS: RefuseReason[] = [
  "malformed", "oversize", "preauth_timeout", "not_allowed", "unknown_atsign", "bad_signature",
  "resolver_error", "lookup_throttled", "quota", "mismatch", "duplicate", "capacity", "unpaired_timeout", "draining", "penalized",
];
const PAIR_END_REASONS: PairEndReason[] = ["closed", "half_closed", "idle_timeout", "byte_quota", "queue_overflow", "stopped", "drained"];

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
  gauge("inlay_relay_draining", "1 while draining (no new sessions), else 0.", now.draining ? 1 : 0);
  gauge("inlay_relay_queued_bytes", "Bytes queued in user space.", s.pipe.queuedBytes);
  gauge("inlay_relay_paused_reads", "Legs paused by backpressure.", s.pipe.pausedReads);
  counter("inlay_relay_connections_total", "Connections accepted.", [["", s.connectionsTotal]]);
  counter("inlay_relay_pairs_total", "Sessions paired.", [["", s.pairsTotal]]);
  counter("inlay_relay_probes_total", "Probes answered (tunnels measuring the fleet).", [["", s.probesTotal]]);
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

/** What the admin routes that change state can do, and the bearer token they need (null: none configured). */
export interface RelayAdminControl {
  token: string | null;
  drain(deadlineMs?: number): void;
  undrain(): void;
}

/** Longest drain deadline the admin route takes (a week). */
export const DRAIN_DEADLINE_MAX_S = 7 * 24 * 3600;

/**
 * The admin HTTP handler. Serve it on loopback only.
 *
 *   GET    /metrics                 Prometheus text
 *   GET    /healthz                 {"ok":true,"pairs":n,"draining":bool}
 *   GET    /readyz                  200 {"ready":true} | 503 {"ready":false,"problems":["draining"]}
 *   POST   /drain[?deadline=SECS]   start draining (Bearer token); pairs left after SECS are ended
 *   DELETE /drain                   take new sessions again (Bearer token)
 *
 * A plain fetch handler, not a router: a few fixed routes do not justify loading one into every relay (RSS budget).
 */
export function relayAdminApp(c: RelayCounters, gauges: () => RelayGauges, control: RelayAdminControl): { fetch(req: Request): Response } {
  return {
    fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === "/drain") return drainRoute(req, url, control, gauges);
      if (req.method !== "GET" && req.method !== "HEAD") return new Response("405 Method Not Allowed", { status: 405, headers: { allow: "GET, HEAD" } });
      if (url.pathname === "/metrics") return new Response(renderMetrics(c, gauges()), { headers: { "content-type": EXPOSITION_CONTENT_TYPE } });
      const now = gauges();
      if (url.pathname === "/healthz") return Response.json({ ok: true, pairs: now.pairs, draining: now.draining });
      if (url.pathname === "/readyz") return now.draining ? Response.json({ ready: false, problems: ["draining"] }, { status: 503 }) : Response.json({ ready: true });
      return new Response("404 Not Found", { status: 404 });
    },
  };
}

function drainRoute(req: Request, url: URL, control: RelayAdminControl, gauges: () => RelayGauges): Response {
  if (req.method !== "POST" && req.method !== "DELETE") return Response.json({ error: "/drain answers POST (start) and DELETE (stop) only" }, { status: 405, headers: { allow: "POST, DELETE" } });
  if (control.token === null) return Response.json({ error: "draining over HTTP needs an admin token; this relay was started without one" }, { status: 403 });
  if (!constantTimeEqual(req.headers.get("authorization") ?? "", `Bearer ${control.token}`)) {
    return Response.json({ error: "missing or wrong bearer token" }, { status: 401, headers: { "www-authenticate": 'Bearer realm="inlay-relay"' } });
  }
  if (req.method === "DELETE") {
    control.undrain();
    return Response.json({ draining: false });
  }
  const text = url.searchParams.get("deadline");
  const secs = text === null ? null : Number(text);
  if (secs !== null && !(Number.isInteger(secs) && secs >= 0 && secs <= DRAIN_DEADLINE_MAX_S)) {
    return Response.json({ error: `deadline must be whole seconds from 0 to ${DRAIN_DEADLINE_MAX_S}, not "${text!.slice(0, 40)}"` }, { status: 400 });
  }
  control.drain(secs === null ? undefined : secs * 1000);
  return Response.json({ draining: true, pairs: gauges().pairs, deadlineSeconds: secs }, { status: 202 });
}
