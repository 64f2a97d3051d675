/**
 * The blind rendezvous relay: one TCP port where two outbound legs prove who they are
 * (core/relay/wire.ts), are paired by session id when both are valid and name each other, and then have
 * their bytes copied across (relay/pipe.ts). The relay never holds a key; it counts only metadata.
 */
import { concatBytes } from "../core/bytes.ts";
import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import { normalizeAtSign } from "../core/atsign.ts";
import { type AtSignSigningAlgo, verifyAtSignSignature } from "../core/crypto/tunnel/at_sign_signature.ts";
import { logger } from "../core/log.ts";
import { admitStranger, newStrangerPool, releaseStranger, type StrangerPool } from "../core/net/stranger_pool.ts";
import { flush, send } from "../core/net/write_queue.ts";
import {
  RELAY_CHALLENGE_BYTES,
  RELAY_DRAINING,
  RELAY_OK,
  RELAY_OPEN,
  RELAY_PREAUTH_LIMIT_BYTES,
  type LegAuth,
  RelayWireError,
  encodeRelayHello,
  isRelayProbe,
  legAuthSignedBytes,
  parseLegAuth,
} from "../core/relay/wire.ts";
import { DEFAULT_GC_PACING, type GcPacing, newGcPacer } from "./gc_pacer.ts";
import { DEFAULT_RELAY_LIMITS, type RelayLimits, SWEEP_INTERVAL_MAX_MS } from "./limits.ts";
import { type PairEndReason, type RefuseReason, type RelayCounters, type RelayGauges, type RelayStats, newRelayCounters, recordSession, relayAdminApp } from "./metrics.ts";
import { type PairMeter, type PipeContext, type PipeEnd, linkPipe, newPipeEnd, pipeData, pipeClosed, pipeDiscard, pipeDrain, pipeEnd } from "./pipe.ts";
import { LookupThrottled, type ResolvePublicKey } from "./public_key_resolver.ts";
import { newPenaltyBox, notePenalty, penalized } from "./penalty_box.ts";

export type { RelayStats } from "./metrics.ts";
export type { RelayLimits } from "./limits.ts";
export type { ResolvePublicKey } from "./public_key_resolver.ts";

/** How to start a relay. */
export interface StartRelayOptions {
  /** The relay's own @sign: announced in HELLO and covered by every leg's signature. */
  relayAtSign: string;
  /** Listen address; the default `::` takes IPv6 and IPv4 (dual-stack) on one port. */
  host?: string;
  /** 0 = ephemeral. */
  port?: number;
  /** Admin HTTP (relay/metrics.ts relayAdminApp); loopback by default. No admin server when port is undefined. */
  adminHost?: string;
  adminPort?: number;
  /** Bearer token of the admin routes that change state (drain); without it they answer 403. */
  adminToken?: string;
  /** Finds an @sign's public key (production: relay/public_key_resolver.ts, cached). */
  resolvePublicKey: ResolvePublicKey;
  /** When given, only these @signs may use the relay. */
  allow?: string[];
  limits?: Partial<RelayLimits>;
  /** Release Bun's read buffers after writing them (relay/pipe.ts); on unless measuring without. */
  releaseBuffers?: boolean;
  /** When to run full collections (relay/gc_pacer.ts); `activityPerCollection: Infinity` turns them off. */
  gcPacing?: Partial<GcPacing>;
}

/** A running relay. */
export interface RelayHandle {
  host: string;
  port: number;
  adminPort: number | null;
  stats(): RelayStats;
  /**
   * Starts draining (maintenance): no new sessions — new legs get DRAINING, probes hear it — while live pairs
   * finish, and so do the stream legs of a live session (`<sid>.<n>` of a pair `<sid>` here, so a live tunnel
   * keeps opening connections). Resolves once no pair is left; pairs still open at `deadlineMs` (from now) are
   * ended then ("drained"). Draining again only moves the deadline.
   */
  drain(deadlineMs?: number): Promise<void>;
  /** Takes new sessions again. */
  undrain(): void;
  draining(): boolean;
  stop(): Promise<void>;
}

type Phase = "preauth" | "verifying" | "pending" | "paired" | "closed";

interface Session {
  id: string;
  legs: [Leg, Leg];
  meter: PairMeter;
  startedMs: number;
  ended: boolean;
}

interface Conn {
  phase: Phase;
  challenge: Uint8Array;
  inbound: Uint8Array | null;
  deadlineMs: number;
  auth: LegAuth | null;
  /** Counted in the per-@sign quota. */
  counted: boolean;
  session: Session | null;
  pipe: PipeEnd;
}

type Leg = Socket<Conn>;

const OK_BYTES = new Uint8Array([RELAY_OK]);
const OPEN_BYTES = new Uint8Array([RELAY_OPEN]);
const DRAINING_BYTES = new Uint8Array([RELAY_DRAINING]);
/** Signature length of each algorithm: a frame of another shape is refused before any key lookup. */
const SIGNATURE_BYTES: Record<AtSignSigningAlgo, number> = { rsa2048: 256, ed25519: 64 };
const SWEEP_INTERVAL_MIN_MS = 10;
const log = logger("relay");

/**
 * Starts a relay and resolves once it listens.
 * @example const relay = await startRelay({ relayAtSign: "@relay", host: "127.0.0.1", port: 0, resolvePublicKey });
 */
export async function startRelay(opts: StartRelayOptions): Promise<RelayHandle> {
  const limits: RelayLimits = { ...DEFAULT_RELAY_LIMITS, ...opts.limits };
  const relayAtSign = normalizeAtSign(opts.relayAtSign);
  const allow = opts.allow ? new Set(opts.allow.map((a) => normalizeAtSign(a))) : null;
  const counters: RelayCounters = newRelayCounters();
  /** Legs not yet authenticated, bounded in total, per address and per /24 or /64. */
  const preAuth: StrangerPool<Leg> = newStrangerPool({
    total: limits.maxPreAuthConnections,
    perAddress: limits.maxPreAuthPerAddress,
    perPrefix: limits.maxPreAuthPerPrefix,
    churnPerPrefix: limits.preAuthChurnPerPrefix,
    churnWindowMs: limits.preAuthChurnWindowMs,
  });
  const pending = new Map<string, Leg>();
  const sessions = new Map<string, Session>();
  const legsPerAtSign = new Map<string, number>();
  const clock = { ms: Date.now() };

  const ctx: PipeContext = {
    stats: counters.stats.pipe,
    nowMs: () => clock.ms,
    queueLimitBytes: limits.queueLimitBytes,
    totalQueueLimitBytes: limits.totalQueueLimitBytes,
    linked: new Set(),
    throttling: false,
    scratch: [],
    bytesPerPairLimit: limits.bytesPerSession,
    releaseBuffers: opts.releaseBuffers ?? true,
    closePair: (s, reason) => endSession((s as Leg).data.session, reason),
  };

  const drain: DrainState = { active: false, timer: undefined, waiters: [] };
  const penalties = newPenaltyBox(limits);
  const gauges = (): RelayGauges => ({ preAuth: preAuth.members.size, pending: pending.size, pairs: sessions.size, draining: drain.active });

  /** Closes a leg that is not paired; `reply` is the one explained refusal (DRAINING). */
  function refuse(s: Leg, reason: RefuseReason, reply?: Uint8Array): void {
    if (s.data.phase === "closed" || s.data.phase === "paired") return;
    counters.stats.refused[reason]++;
    notePenalty(penalties, s.remoteAddress, reason);
    log.debug("leg refused", { reason, peer: s.remoteAddress, atSign: s.data.auth?.atSign });
    forget(s);
    if (reply) send(s, s.data.pipe.out, reply);
    s.end();
  }

  /** While draining, only the stream legs of a session paired here make new pairs. */
  function drainRefuses(sessionId: string): boolean {
    if (!drain.active) return false;
    const dot = sessionId.lastIndexOf(".");
    return dot <= 0 || !sessions.has(sessionId.slice(0, dot));
  }

  function answerProbe(s: Leg): void {
    counters.stats.probesTotal++;
    forget(s);
    send(s, s.data.pipe.out, drain.active ? DRAINING_BYTES : OPEN_BYTES);
    s.end();
  }

  /** Removes a leg that is not paired from every table. Idempotent. */
  function forget(s: Leg): void {
    const c = s.data;
    if (c.phase === "preauth" || c.phase === "verifying") releaseStranger(preAuth, s);
    if (c.phase === "pending" && pending.get(c.auth!.sessionId) === s) pending.delete(c.auth!.sessionId);
    uncount(s);
    c.phase = "closed";
  }

  function uncount(s: Leg): void {
    if (!s.data.counted) return;
    s.data.counted = false;
    const a = s.data.auth!.atSign;
    const n = (legsPerAtSign.get(a) ?? 1) - 1;
    if (n <= 0) legsPerAtSign.delete(a);
    else legsPerAtSign.set(a, n);
  }

  function endSession(session: Session | null, reason: PairEndReason): void {
    if (!session || session.ended) return;
    session.ended = true;
    counters.stats.pairEnds[reason]++;
    sessions.delete(session.id);
    if (drain.active && sessions.size === 0) drained(drain);
    const [a, b] = session.legs;
    recordSession(counters, [a.data.auth!.atSign, b.data.auth!.atSign], session.meter.bytes, (clock.ms - session.startedMs) / 1000);
    for (const leg of session.legs) {
      pipeDiscard(ctx, leg);
      uncount(leg);
      leg.data.phase = "closed";
    }
    for (const leg of session.legs) leg.end();
  }

  function onPreAuthBytes(s: Leg, chunk: Uint8Array): void {
    const c = s.data;
    const buf = c.inbound ? concatBytes([c.inbound, chunk]) : chunk;
    if (buf.byteLength > RELAY_PREAUTH_LIMIT_BYTES) return refuse(s, "oversize");
    if (isRelayProbe(buf)) return answerProbe(s);
    let parsed: ReturnType<typeof parseLegAuth>;
    try {
      parsed = parseLegAuth(buf);
    } catch (e) {
      if (e instanceof RelayWireError) return refuse(s, "malformed");
      throw e;
    }
    if (!parsed) {
      c.inbound = buf;
      return;
    }
    // A leg waits for OK before sending data, so anything after AUTH is a protocol violation.
    if (parsed.used !== buf.byteLength) return refuse(s, "malformed");
    // Before any key lookup or signature check: a draining relay spends nothing on a leg it will not pair.
    if (drainRefuses(parsed.auth.sessionId)) return refuse(s, "draining", DRAINING_BYTES);
    c.inbound = null;
    c.auth = parsed.auth;
    c.phase = "verifying";
    verifyLeg(s, parsed.auth).catch((e: unknown) => {
      // A bug here must cost one connection, not the process (an unhandled rejection would end it).
      log.error("leg verification failed", { err: String(e) });
      refuse(s, "malformed");
    });
  }

  async function verifyLeg(s: Leg, auth: LegAuth): Promise<void> {
    if (!isCanonical(auth.atSign) || !isCanonical(auth.peerAtSign)) return refuse(s, "malformed");
    if (auth.signature.byteLength !== SIGNATURE_BYTES[auth.algo]) return refuse(s, "bad_signature");
    if (allow && !allow.has(auth.atSign)) return refuse(s, "not_allowed");
    if (sessions.has(auth.sessionId)) return refuse(s, "duplicate");
    if ((legsPerAtSign.get(auth.atSign) ?? 0) >= limits.sessionsPerAtSign) return refuse(s, "quota");
    let key: string | null;
    try {
      key = await opts.resolvePublicKey(auth.atSign, s.remoteAddress);
    } catch (e) {
      if (e instanceof LookupThrottled) return refuse(s, "lookup_throttled");
      log.warn("public key lookup failed", { atSign: auth.atSign, err: String(e) });
      return refuse(s, "resolver_error");
    }
    if (s.data.phase !== "verifying") return; // closed or timed out meanwhile
    if (key === null) return refuse(s, "unknown_atsign");
    const signed = legAuthSignedBytes(auth.signedBody, s.data.challenge, relayAtSign);
    const valid = await verifyAtSignSignature(auth.algo, key, signed, auth.signature);
    if (s.data.phase !== "verifying") return; // closed or timed out meanwhile
    if (!valid) return refuse(s, "bad_signature");
    if ((legsPerAtSign.get(auth.atSign) ?? 0) >= limits.sessionsPerAtSign) return refuse(s, "quota");
    releaseStranger(preAuth, s);
    legsPerAtSign.set(auth.atSign, (legsPerAtSign.get(auth.atSign) ?? 0) + 1);
    s.data.counted = true;
    pairLeg(s, auth);
  }

  function pairLeg(s: Leg, auth: LegAuth): void {
    if (drainRefuses(auth.sessionId)) return refuse(s, "draining", DRAINING_BYTES);
    const other = pending.get(auth.sessionId);
    if (!other) {
      if (pending.size >= limits.maxPendingLegs) return refuse(s, "capacity");
      if (sessions.has(auth.sessionId)) return refuse(s, "duplicate");
      s.data.phase = "pending";
      s.data.deadlineMs = clock.ms + limits.unpairedTtlMs;
      pending.set(auth.sessionId, s);
      return;
    }
    const o = other.data.auth!;
    // Both legs must be valid and name each other; a wrong leg never displaces the one that waits.
    if (o.side === auth.side || o.atSign !== auth.peerAtSign || o.peerAtSign !== auth.atSign) return refuse(s, "mismatch");
    if (sessions.size >= limits.maxPairs) return refuse(s, "capacity");
    pending.delete(auth.sessionId);
    const [a, b] = auth.side === "a" ? [s, other] : [other, s];
    clock.ms = Date.now();
    const session: Session = { id: auth.sessionId, legs: [a, b], meter: { bytes: 0, lastActiveMs: clock.ms }, startedMs: clock.ms, ended: false };
    sessions.set(session.id, session);
    counters.stats.pairsTotal++;
    for (const leg of session.legs) {
      leg.data.phase = "paired";
      leg.data.session = session;
    }
    linkPipe(ctx, a, b, session.meter);
    send(a, a.data.pipe.out, OK_BYTES);
    send(b, b.data.pipe.out, OK_BYTES);
  }

  function sweep(): void {
    const now = (clock.ms = Date.now());
    for (const s of preAuth.members.keys()) if (now >= s.data.deadlineMs) refuse(s, "preauth_timeout");
    for (const s of pending.values()) if (now >= s.data.deadlineMs) refuse(s, "unpaired_timeout");
    for (const session of sessions.values()) if (now - session.meter.lastActiveMs >= limits.idleTimeoutMs) endSession(session, "idle_timeout");
  }

  const listen = (hostname: string): TCPSocketListener<Conn> =>
    Bun.listen<Conn>({ hostname, port: opts.port ?? 0, allowHalfOpen: true, socket: handlers });
  const handlers: SocketHandler<Conn> = {
    open(s) {
      counters.stats.connectionsTotal++;
      s.data = {
        phase: "preauth",
        challenge: crypto.getRandomValues(new Uint8Array(RELAY_CHALLENGE_BYTES)),
        inbound: null,
        deadlineMs: Date.now() + limits.preAuthTimeoutMs,
        auth: null,
        counted: false,
        session: null,
        pipe: newPipeEnd(limits.queueLimitBytes),
      };
      if (penalized(penalties, s.remoteAddress)) return refuse(s, "penalized");
      // A full pool makes room: the oldest leg of this address, else of its prefix, else of the busiest prefix.
      const admission = admitStranger(preAuth, s, s.remoteAddress);
      if (!admission.admitted) return refuse(s, "capacity");
      if (admission.evicted) refuse(admission.evicted, "capacity");
      send(s, s.data.pipe.out, encodeRelayHello(s.data.challenge, relayAtSign));
    },
    data(s, chunk) {
      const phase = s.data.phase;
      if (phase === "paired") return pipeData(ctx, s, chunk);
      if (phase === "preauth") return onPreAuthBytes(s, chunk);
      if (phase !== "closed") refuse(s, "malformed");
    },
    drain(s) {
      if (s.data.phase === "paired") pipeDrain(ctx, s);
      else flush(s, s.data.pipe.out);
    },
    end(s) {
      if (s.data.phase === "paired") return pipeEnd(ctx, s);
      forget(s);
      s.end();
    },
    close(s) {
      if (s.data.phase === "paired") pipeClosed(ctx, s);
      else forget(s);
    },
    error(s, err) {
      log.debug("leg error", { peer: s.remoteAddress, err: String(err) });
    },
  };
  let host = opts.host ?? "::";
  let listener: TCPSocketListener<Conn>;
  try {
    listener = listen(host);
  } catch (e) {
    // `::` takes IPv6 and IPv4 on one socket; a host without IPv6 cannot bind it, so fall back to IPv4 only.
    if (opts.host !== undefined) throw e;
    log.warn("IPv6 unavailable, listening on IPv4 only", { err: String(e) });
    host = "0.0.0.0";
    listener = listen(host);
  }

  const sweepMs = Math.max(
    SWEEP_INTERVAL_MIN_MS,
    Math.min(SWEEP_INTERVAL_MAX_MS, limits.preAuthTimeoutMs / 4, limits.unpairedTtlMs / 4, limits.idleTimeoutMs / 4),
  );
  const sweeper = setInterval(sweep, sweepMs);
  const pacing = { ...DEFAULT_GC_PACING, ...opts.gcPacing };
  const gc = newGcPacer(pacing, () => Bun.gc(true), () => performance.now(), counters.stats.gc);
  const gcTimer = setInterval(() => gc.check(counters.stats.pipe.bytesForwarded, counters.stats.connectionsTotal), pacing.minIntervalMs);

  const admin =
    opts.adminPort === undefined
      ? null
      : Bun.serve({
          hostname: opts.adminHost ?? "127.0.0.1",
          port: opts.adminPort,
          fetch: relayAdminApp(counters, gauges, { token: opts.adminToken ?? null, drain: (ms) => void startDrain(ms), undrain: () => undrain() }).fetch,
        });

  /** Enters drain mode; the pending legs of new sessions are refused now (their peers will be too). */
  function startDrain(deadlineMs?: number): Promise<void> {
    const done = new Promise<void>((r) => drain.waiters.push(r));
    if (!drain.active) log.info("draining: no new sessions", { pairs: sessions.size });
    drain.active = true;
    for (const s of [...pending.values()]) if (drainRefuses(s.data.auth!.sessionId)) refuse(s, "draining", DRAINING_BYTES);
    clearTimeout(drain.timer);
    if (deadlineMs !== undefined) drain.timer = setTimeout(() => [...sessions.values()].forEach((x) => endSession(x, "drained")), deadlineMs);
    if (sessions.size === 0) drained(drain);
    return done;
  }

  function undrain(): void {
    if (drain.active) log.info("draining ended: taking new sessions");
    drain.active = false;
    drained(drain);
  }

  return {
    host,
    port: listener.port,
    adminPort: admin ? (admin.port ?? null) : null,
    drain: startDrain,
    undrain,
    draining: () => drain.active,
    stats() {
      const st = counters.stats;
      return {
        ...st,
        ...gauges(),
        refused: { ...st.refused },
        pairEnds: { ...st.pairEnds },
        pipe: { ...st.pipe },
        gc: { ...st.gc },
      };
    },
    async stop() {
      clearTimeout(drain.timer);
      drained(drain);
      clearInterval(sweeper);
      clearInterval(gcTimer);
      for (const session of [...sessions.values()]) endSession(session, "stopped");
      for (const s of [...preAuth.members.keys(), ...pending.values()]) {
        forget(s);
        s.end();
      }
      listener.stop(true);
      await admin?.stop(true);
    },
  };
}

/** Drain mode: on, the timer that ends the last pairs at the deadline, and who waits for the pairs to be gone. */
interface DrainState {
  active: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  waiters: Array<() => void>;
}

/** No pair is left (or draining was called off): wake whoever waits. */
function drained(d: DrainState): void {
  clearTimeout(d.timer);
  for (const w of d.waiters.splice(0)) w();
}

function isCanonical(atSign: string): boolean {
  try {
    return normalizeAtSign(atSign) === atSign;
  } catch {
    return false;
  }
}
