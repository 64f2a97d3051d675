/**
 * What one atServer counts: a record of preallocated numbers that the hot paths add to (a property add per
 * line, no strings built, no Map), read only when /metrics is scraped (render.ts).
 *
 * Labels come from fixed sets only — verb names, error codes, reasons, methods — never a key, a value or an
 * @sign, so no series can leak what an owner stores and the series count is bounded. One record belongs to one
 * @sign: a hosting process with many @signs keeps one per @sign (about 12 KB each), renders the process totals
 * by adding them up (renderServerMetrics takes a list), and can serve one @sign's figures on a path of its own
 * (`/metrics/atsigns/<atsign>`, opt-in, rendering a single record) instead of an `atsign` label.
 */
import type { Command, VerbName } from "../../core/verbs/command.ts";
import { newHistogram, observe, type Histogram } from "../../core/metrics/histogram.ts";
import { AtProtocolError, ERROR_CODES } from "../../core/wire/index.ts";
import type { Connection } from "../connection.ts";
import type { DeliveryOutcome } from "../notify/notification_store.ts";

// Typed against VerbName both ways, so a new verb cannot go uncounted.
const VERB_TABLE = {
  batch: 0, config: 0, cram: 0, delete: 0, enroll: 0, exit: 0, from: 0, info: 0, keys: 0, llookup: 0, lookup: 0,
  monitor: 0, noop: 0, notify: 0, notifyAll: 0, notifyFetch: 0, notifyList: 0, notifyMulti: 0, notifyRemove: 0, notifyStatus: 0,
  otp: 0, pkam: 0, plookup: 0, pol: 0, scan: 0, stats: 0, stream: 0, syncFrom: 0, to: 0, update: 0, updateJson: 0,
  updateMeta: 0,
} satisfies Record<VerbName, 0>;

/** A verb, or `invalid` for a line that did not parse. */
export type VerbLabel = VerbName | "invalid";
/** Every verb label, in exposition order. */
export const VERB_LABELS = [...Object.keys(VERB_TABLE), "invalid"] as VerbLabel[];

/** How a command ended: `ok`, the atProtocol error code it was answered with, or `internal` (a crash: AT0011). */
export const RESULT_LABELS: readonly string[] = ["ok", ...Object.keys(ERROR_CODES), "internal"];
const RESULT_INDEX: Readonly<Record<string, number>> = Object.fromEntries(RESULT_LABELS.map((r, i) => [r, i]));

/** Who an open connection is, from its auth state. */
export type ConnectionKind = "owner" | "apkam" | "peer" | "unauthenticated";
export const CONNECTION_KINDS: readonly ConnectionKind[] = ["owner", "apkam", "peer", "unauthenticated"];

/** Why the listener closed a connection (a limit, not the client's own exit). */
/**
 * Why a limit closed a connection: every slot taken; its address's share taken; its prefix churned through the
 * strangers' share (closed before the handshake); evicted to make room for a newcomer; TLS failed; a line too
 * long; a reader too slow; silent too long; a line or the authentication not finished in time.
 */
export type ConnectionRefusal = "capacity" | "per_address" | "churn" | "evicted" | "tls_handshake" | "line_too_long" | "slow_reader" | "idle" | "deadline";
export const CONNECTION_REFUSALS: readonly ConnectionRefusal[] = ["capacity", "per_address", "churn", "evicted", "tls_handshake", "line_too_long", "slow_reader", "idle", "deadline"];

/** How a connection authenticated: owner CRAM, owner PKAM, APKAM (PKAM with an enrollment), another server's pol. */
export type AuthMethodLabel = "cram" | "pkam" | "apkam" | "pol";
export const AUTH_METHODS: readonly AuthMethodLabel[] = ["cram", "pkam", "apkam", "pol"];
/** ok; failed: refused with AT0401 (wrong digest or signature, throttled, stale challenge); refused: any other error. */
export type AuthResult = "ok" | "failed" | "refused";
export const AUTH_RESULTS: readonly AuthResult[] = ["ok", "failed", "refused"];

/** One verb's figures: commands by result (indexed like RESULT_LABELS) and their latency. */
export interface VerbFigures {
  readonly results: Float64Array;
  readonly latency: Histogram;
}

/** What happened to sent notifications (row transitions of the delivery queue). */
export interface NotifyCounters {
  queued: number;
  delivered: number;
  /** Deliveries rescheduled: the attempt failed, or the recipient was unreachable and its rows postponed. */
  retried: number;
  /** Given up: rejected by the receiver or out of attempts (status errored). */
  errored: number;
  /** Times a recipient was unreachable and paused. */
  quarantined: number;
  /** Queued rows that ran out of ttln, or were superseded by strategy latest, before delivery. */
  expired: number;
}

/** The expiry sweeper's work. */
export interface SweeperCounters {
  runs: number;
  removed: number;
  failures: number;
}

/** The counters of one @sign's server. */
export interface ServerMetrics {
  readonly verbs: Record<VerbLabel, VerbFigures>;
  readonly auth: Record<AuthMethodLabel, Record<AuthResult, number>>;
  readonly connections: { accepted: number; readonly refused: Record<ConnectionRefusal, number>; readonly live: Set<Connection> };
  readonly notify: NotifyCounters;
  readonly outbound: { opened: number; failed: number };
  readonly sweeper: SweeperCounters;
}

const zeros = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/** A zeroed record. */
export function newServerMetrics(): ServerMetrics {
  const verbs = {} as Record<VerbLabel, VerbFigures>;
  for (const v of VERB_LABELS) verbs[v] = { results: new Float64Array(RESULT_LABELS.length), latency: newHistogram() };
  const auth = {} as Record<AuthMethodLabel, Record<AuthResult, number>>;
  for (const m of AUTH_METHODS) auth[m] = zeros(AUTH_RESULTS);
  return {
    verbs,
    auth,
    connections: { accepted: 0, refused: zeros(CONNECTION_REFUSALS), live: new Set() },
    notify: { queued: 0, delivered: 0, retried: 0, errored: 0, quarantined: 0, expired: 0 },
    outbound: { opened: 0, failed: 0 },
    sweeper: { runs: 0, removed: 0, failures: 0 },
  };
}

/** The kind of `conn` now. */
export function connectionKind(conn: Connection): ConnectionKind {
  const auth = conn.state.auth;
  return auth === "none" ? "unauthenticated" : auth === "pol" ? "peer" : conn.enrollmentId !== undefined ? "apkam" : "owner";
}

function record(m: ServerMetrics, cmd: Command | null, startedMs: number, result: number, authResult: AuthResult): void {
  const v = m.verbs[cmd === null ? "invalid" : cmd.verb];
  v.results[result]!++;
  observe(v.latency, (performance.now() - startedMs) / 1000);
  if (cmd === null) return;
  if (cmd.verb === "cram" || cmd.verb === "pol") m.auth[cmd.verb][authResult]++;
  else if (cmd.verb === "pkam") m.auth[cmd.enrollmentId === undefined ? "pkam" : "apkam"][authResult]++;
}

/**
 * Counts `cmd` as answered (started at `startedMs`, performance.now()) and returns `reply` unchanged.
 * @example return frame(conn, countAnswer(ctx.metrics, cmd, startedMs, reply));
 */
export function countAnswer<T>(m: ServerMetrics, cmd: Command, startedMs: number, reply: T): T {
  record(m, cmd, startedMs, 0, "ok");
  return reply;
}

/**
 * Counts `cmd` (null: the line did not parse) as refused with `err` and returns `err` unchanged.
 * @example return fail(conn, countFailure(ctx.metrics, cmd, startedMs, err));
 */
export function countFailure(m: ServerMetrics, cmd: Command | null, startedMs: number, err: unknown): unknown {
  const code = err instanceof AtProtocolError ? err.code : "internal";
  record(m, cmd, startedMs, RESULT_INDEX[code] ?? RESULT_INDEX.internal!, code === "AT0401" ? "failed" : "refused");
  return err;
}

/** Counts one sweep round that removed `removed` keys (null: the round failed). */
export function countSweep(s: SweeperCounters | undefined, removed: number | null): void {
  if (!s) return;
  if (removed === null) s.failures++;
  else {
    s.runs++;
    s.removed += removed;
  }
}

/**
 * Counts delivery outcomes as the store is about to record them; returns them unchanged.
 * @example store.recordOutcomes(countOutcomes(counts, outcomes));
 */
export function countOutcomes(n: NotifyCounters | undefined, outcomes: DeliveryOutcome[]): DeliveryOutcome[] {
  if (!n) return outcomes;
  for (const o of outcomes) {
    if (o.delivered) n.delivered++;
    else if (o.retryAt === null) n.errored++;
    else n.retried++;
  }
  return outcomes;
}
