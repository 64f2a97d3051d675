/**
 * The atServer's TLS listener: framing, per-connection ordering, backpressure and the abuse limits.
 *
 * Per connection: bytes → line buffer (bounded) → queue of pending lines (bounded; the socket is paused when it
 * is full) → one line at a time through `handleLine` → its answer goes out through the write queue as ONE
 * write attempt (payload and prompt together). The first `@` is written alone once the TLS handshake is done.
 * A failure ends that connection only, never the listener.
 */
import type { Socket, TCPSocketListener } from "bun";
import type { X509Certificate } from "node:crypto";
import { logger } from "../core/log.ts";
import { LineTooLongError, newLineBuffer, pushChunk, type LineBuffer } from "../core/net/line_buffer.ts";
import { flush, newWriteQueue, send, type WriteQueue } from "../core/net/write_queue.ts";
import { AtProtocolError, ERROR_CODES, MAX_REQUEST_BYTES, errorResponse, inboundLimitResponse } from "../core/wire/index.ts";
import { admitStranger, newStrangerPool, oldestOfHeaviest, releaseStranger, type StrangerPool } from "../core/net/stranger_pool.ts";
import { newConnection, type Connection } from "./connection.ts";
import type { ConnectionRefusal } from "./metrics/server_metrics.ts";
import { chargeCpu, cpuWaitMs, newCpuShare, type CpuShare } from "./cpu_share.ts";
import { HTTP_ALPN, httpClosed, httpData, newHttpExchange, type HttpAnswer, type HttpExchange } from "./http/request_reader.ts";

/** Limits of the listener; every one has a default below. */
export interface ListenerLimits {
  /** Longest request line (bytes); beyond it AT0005 and close. */
  maxLineBytes: number;
  /** Longest line before authentication (bytes): strangers cannot make us buffer 10 MB per connection. */
  maxUnauthLineBytes: number;
  /** Open connections in total; beyond it a stranger makes room (see unauthShare), else AT0012 and close. */
  maxConnections: number;
  /** Open connections from one address, authenticated or not; beyond it AT0012 and close. */
  maxConnectionsPerAddress: number;
  /**
   * Fraction (0..1] of maxConnections unauthenticated connections may hold; the rest is kept for the owner and
   * authenticated peers. A newcomer to a full share takes the place of the oldest stranger of its own address,
   * else of its own /24 or /64, else of the prefix holding the most (core/net/stranger_pool.ts).
   */
  unauthShare: number;
  /** Unauthenticated connections from one address (same rule when full). */
  maxUnauthPerAddress: number;
  /** Unauthenticated connections from one /24 (IPv4) or /64 (IPv6) (same rule when full). */
  maxUnauthPerPrefix: number;
  /**
   * Times per unauthChurnWindowMs a prefix may evict one of its own strangers; past it its newcomers are closed
   * at accept, before the TLS handshake (a flood that keeps reconnecting would otherwise cost a handshake each).
   */
  maxUnauthChurnPerPrefix: number;
  /** Length of that window (ms). */
  unauthChurnWindowMs: number;
  /** Time (ms) to complete the TLS handshake; then the connection is closed. */
  handshakeTimeoutMs: number;
  /** Time (ms) an unauthenticated connection may live: it is for a few lookups or to authenticate. */
  unauthMaxAgeMs: number;
  /** Time (ms) from a line's first byte to its newline before authentication; then AT0013 and close. */
  unauthLineDeadlineMs: number;
  /** The same after authentication (room for a 10 MB update on a slow link). */
  authLineDeadlineMs: number;
  /** Idle time (ms, since the last complete line) before an unauthenticated connection is closed. */
  unauthIdleMs: number;
  /** Idle time (ms, since the last complete line) before an authenticated connection is closed. */
  authIdleMs: number;
  /** Lines read ahead of the one being answered before the socket is paused. */
  maxPendingLines: number;
  /** Outgoing bytes queued for a slow reader before its connection is closed. */
  maxQueuedWriteBytes: number;
  /** Fraction (0..1] of wall time one connection's handlers may take while other connections are active. */
  cpuShare: number;
  /** Handler time (ms) a connection may run ahead of cpuShare before its further lines wait. */
  cpuBurstMs: number;
}

/** Defaults: the reference's request size, a pool like its config (200), short unauthenticated idle. */
export const DEFAULT_LISTENER_LIMITS: ListenerLimits = {
  maxLineBytes: MAX_REQUEST_BYTES,
  maxUnauthLineBytes: 64 * 1024,
  maxConnections: 200,
  maxConnectionsPerAddress: 100,
  unauthShare: 0.5,
  maxUnauthPerAddress: 64,
  maxUnauthPerPrefix: 80,
  maxUnauthChurnPerPrefix: 64,
  unauthChurnWindowMs: 10_000,
  handshakeTimeoutMs: 10_000,
  unauthMaxAgeMs: 5 * 60_000,
  unauthLineDeadlineMs: 10_000,
  authLineDeadlineMs: 120_000,
  unauthIdleMs: 60_000,
  authIdleMs: 60 * 60_000,
  maxPendingLines: 16,
  maxQueuedWriteBytes: 16 * 1024 * 1024,
  cpuShare: 0.25,
  cpuBurstMs: 250,
};

/** A connection's pump yields to the event loop after this much handler time (ms) without a pause... */
const PUMP_SLICE_MS = 2;
/** ...or after this many commands, so pipelined work from one peer never holds the loop for long. */
const PUMP_SLICE_LINES = 32;
/** Another connection that sent a line within this time (ms) counts as active for the CPU share. */
const CPU_CONTENTION_WINDOW_MS = 1_000;

/** Longest period of the deadline sweep (ms). */
const IDLE_CHECK_INTERVAL_MS = 1_000;
/** Shortest idle time an unauthenticated connection gets when the pool is nearly full (the reference's 5 s). */
export const UNAUTH_IDLE_FLOOR_MS = 5_000;
/** Shortest idle time an authenticated connection gets when the pool is nearly full (the reference's 60 s). */
export const AUTH_IDLE_FLOOR_MS = 60_000;

/**
 * The idle limit at pool fill `fill` (0..1): the full `baseMs` up to half full, then shrinking linearly to
 * `floorMs` at full, as the reference does, so idle connections make room for new ones under pressure.
 * @example idleLimitMs(60_000, 5_000, 0.75) // 32_500
 */
export function idleLimitMs(baseMs: number, floorMs: number, fill: number): number {
  if (fill <= 0.5 || baseMs <= floorMs) return baseMs;
  const f = Math.min(1, (fill - 0.5) * 2);
  return Math.round(baseMs - (baseMs - floorMs) * f);
}

/** Runs `listen`, turning a bind failure into a one-line error that says what to change. */
function listenOrExplain<T>(host: string, port: number, listen: () => T): T {
  try {
    return listen();
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    const hint =
      code === "EADDRINUSE" ? "the port is in use; pick another with --port (0 = any free port)"
      : code === "EACCES" ? "not allowed to bind it; use a port above 1023 or grant the capability"
      : (err as Error).message;
    throw new Error(`Cannot listen on ${host}:${port}: ${hint}`);
  }
}

/** What the listener calls; the server's dispatcher implements it. */
export interface LineHandler {
  /** Answers one request line (without `\n`). Returns the bytes to write, or null to write nothing. */
  handleLine(conn: Connection, line: string): string | null | Promise<string | null>;
  /** Called once when a connection is gone (cleanup of per-connection state elsewhere). */
  onClose?(conn: Connection): void;
  /** Called once a connection is accepted (within the limits); onClose follows it. */
  onOpen?(conn: Connection): void;
  /** Called when a limit closes a connection (metrics). */
  onRefuse?(reason: ConnectionRefusal): void;
}

interface SocketState {
  conn: Connection;
  lines: LineBuffer;
  out: WriteQueue;
  pending: string[];
  busy: boolean;
  paused: boolean;
  /** End the socket once the write queue is empty. */
  ending: boolean;
  /** Counted in the connection totals (false for sockets refused at open or evicted). */
  counted: boolean;
  /** The TLS handshake is done and the first prompt was written. */
  ready: boolean;
  openedAt: number;
  /** When the unfinished line in `lines` got its first byte (0: none). */
  lineStartedAt: number;
  cpu: CpuShare;
  /** The listener's handler, for the limit hooks of functions that only get the socket. */
  handler: LineHandler;
  /** Set when the handshake selected ALPN `http/1.1`: the connection speaks HTTP, never the line protocol. */
  http: HttpExchange | null;
}

type Sock = Socket<SocketState>;

/** Who sent a line last, for the CPU share's "another connection is active". */
interface LineSeen {
  s: Sock | null;
  at: number;
}

/**
 * The two distinct connections that sent a line most recently (cheaper than scanning every socket). Listeners
 * given one record (hosting mode: one listener per @sign) count each other's connections as active, so the CPU
 * share holds across @signs too.
 */
export interface LineActivity {
  recent: [LineSeen, LineSeen];
}

export const newLineActivity = (): LineActivity => ({ recent: [{ s: null, at: 0 }, { s: null, at: 0 }] });

/** A listener's tables; the functions below work on it. */
interface ListenerState {
  readonly limits: ListenerLimits;
  readonly handler: LineHandler;
  readonly sockets: Set<Sock>;
  readonly perAddress: Map<string, number>;
  /** Counted connections not yet authenticated. */
  readonly strangers: StrangerPool<Sock>;
  readonly activity: LineActivity;
}

/** A running listener. */
export interface Listener {
  readonly port: number;
  /** Open connections right now. */
  connectionCount(): number;
  /** Stops accepting and closes every connection. */
  stop(): void;
}

const log = logger("server");

// Bun throws or returns undefined when the peer sent no certificate (ordinary clients never do).
function peerCertificate(s: Sock): X509Certificate | undefined {
  try {
    return s.getPeerX509Certificate() ?? undefined;
  } catch {
    return undefined;
  }
}

function write(s: Sock, text: string | Uint8Array): void {
  const st = s.data;
  if (st.conn.closed && !st.ending) return;
  if (send(s, st.out, text) === "overflow") {
    st.handler.onRefuse?.("slow_reader");
    log.warn("closing a connection that does not read its responses", { conn: st.conn.id });
    abort(s);
  }
}

function abort(s: Sock): void {
  s.data.out.chunks.length = 0;
  s.data.out.bytes = 0;
  s.data.conn.closed = true;
  s.end();
}

function endWhenFlushed(s: Sock): void {
  const st = s.data;
  st.conn.closed = true;
  st.ending = true;
  if (st.out.chunks.length === 0) s.end();
}

/** Writes the error in the connection's form and closes once it is flushed. */
function closeWithError(s: Sock, e: AtProtocolError): void {
  const st = s.data;
  write(s, errorResponse(e, { state: st.conn.state, clientVersion: st.conn.clientVersion }));
  endWhenFlushed(s);
}

function newSocketState(s: Sock, limits: ListenerLimits, handler: LineHandler): SocketState {
  const st: SocketState = {
    conn: newConnection(s.remoteAddress, {
      write: (t) => write(s, t),
      close: () => endWhenFlushed(s),
      peerCertificate: () => peerCertificate(s),
      peerAuthorized: () => s.authorized,
      queuedBytes: () => st.out.bytes,
      abort: () => abort(s),
    }),
    lines: newLineBuffer(limits.maxLineBytes),
    out: newWriteQueue(limits.maxQueuedWriteBytes),
    pending: [],
    busy: false,
    paused: false,
    ending: false,
    counted: false,
    ready: false,
    openedAt: Date.now(),
    lineStartedAt: 0,
    cpu: newCpuShare(cpuLimits(limits), performance.now()),
    handler,
    http: null,
  };
  return st;
}

const cpuLimits = (l: ListenerLimits) => ({ share: l.cpuShare, burstMs: l.cpuBurstMs });

/**
 * Counts a new connection in, making room by evicting a stranger where a strangers' bound is full. Says
 * "refuse" when its address holds its share or every slot is authenticated (AT0012 after the handshake), and
 * "drop" when its prefix has churned through its strangers' share too often (closed before the handshake).
 */
function admit(L: ListenerState, s: Sock): "ok" | "refuse" | "drop" {
  const address = s.data.conn.address;
  const fromAddress = L.perAddress.get(address) ?? 0;
  if (fromAddress >= L.limits.maxConnectionsPerAddress) return refuse(L, "per_address", "refuse");
  if (L.sockets.size >= L.limits.maxConnections) {
    const victim = oldestOfHeaviest(L.strangers);
    if (victim === null) return refuse(L, "capacity", "refuse");
    evict(L, victim);
  }
  const admission = admitStranger(L.strangers, s, address);
  if (!admission.admitted) return refuse(L, "churn", "drop");
  if (admission.evicted !== null) evict(L, admission.evicted);
  s.data.counted = true;
  L.sockets.add(s);
  L.perAddress.set(address, (L.perAddress.get(address) ?? 0) + 1);
  L.handler.onOpen?.(s.data.conn);
  return "ok";
}

function refuse<T>(L: ListenerState, reason: ConnectionRefusal, outcome: T): T {
  L.handler.onRefuse?.(reason);
  return outcome;
}

/** Takes a connection out of every table once (at close or eviction). */
function uncount(L: ListenerState, s: Sock): void {
  const st = s.data;
  st.conn.closed = true;
  if (!st.counted) return;
  st.counted = false;
  L.sockets.delete(s);
  releaseStranger(L.strangers, s);
  const n = (L.perAddress.get(st.conn.address) ?? 1) - 1;
  if (n <= 0) L.perAddress.delete(st.conn.address);
  else L.perAddress.set(st.conn.address, n);
  L.handler.onClose?.(st.conn);
}

/** Closes a stranger to make room for a newcomer: the reference's limit form if it has a prompt already. */
function evict(L: ListenerState, s: Sock): void {
  log.debug("closing a stranger to make room", { conn: s.data.conn.id, address: s.data.conn.address });
  L.handler.onRefuse?.("evicted");
  uncount(L, s);
  // Before its prompt, or speaking HTTP: no atProtocol error form to send, just the close.
  if (!s.data.ready || s.data.http !== null) return void s.end();
  s.data.ending = true;
  write(s, inboundLimitResponse());
  endWhenFlushed(s);
}

function noteLine(L: ListenerState, s: Sock, now: number): void {
  const [a] = L.activity.recent;
  if (a.s === s) a.at = now;
  else L.activity.recent = [{ s, at: now }, a];
}

/** Whether a connection other than `s` sent a line lately (then `s` is charged for its handler time). */
function othersActive(L: ListenerState, s: Sock, now: number): boolean {
  return L.activity.recent.some((r) => r.s !== null && r.s !== s && now - r.at < CPU_CONTENTION_WINDOW_MS);
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Answers pending lines one at a time, in order. Yields to the event loop every PUMP_SLICE_MS or
 * PUMP_SLICE_LINES so that other sockets are read and served in between, and waits while this connection is
 * over its CPU share and others are active.
 */
async function pump(L: ListenerState, s: Sock): Promise<void> {
  const st = s.data;
  if (st.busy) return;
  st.busy = true;
  try {
    let sliceStart = performance.now();
    let sliceLines = 0;
    // A peer that does not read gets no further answers until it does (drain resumes the pump), so one
    // connection never holds more than one unread response.
    while (st.pending.length > 0 && !st.conn.closed && st.out.chunks.length === 0) {
      const wait = othersActive(L, s, Date.now()) ? cpuWaitMs(st.cpu, cpuLimits(L.limits), performance.now()) : 0;
      if (wait > 0) {
        await Bun.sleep(wait);
        continue;
      }
      if (!(await answerLine(L, s, st.pending.shift()!))) return;
      if (++sliceLines >= PUMP_SLICE_LINES || performance.now() - sliceStart >= PUMP_SLICE_MS) {
        await yieldToLoop();
        sliceStart = performance.now();
        sliceLines = 0;
      }
    }
  } finally {
    st.busy = false;
    if (st.paused && st.pending.length < L.limits.maxPendingLines && !st.conn.closed) {
      st.paused = false;
      s.resume();
    }
  }
}

/** Runs one line through the handler and writes its answer. Returns false when the connection is done. */
async function answerLine(L: ListenerState, s: Sock, line: string): Promise<boolean> {
  const st = s.data;
  const wasStranger = st.conn.state.auth === "none";
  let answer: string | null;
  try {
    const t0 = performance.now();
    const r = L.handler.handleLine(st.conn, line);
    // Only the synchronous part is charged: awaited I/O costs this process nothing.
    const t1 = performance.now();
    if (othersActive(L, s, Date.now())) chargeCpu(st.cpu, cpuLimits(L.limits), t1 - t0, t1);
    answer = r instanceof Promise ? await r : r;
  } catch (err) {
    log.error("request failed", { conn: st.conn.id, error: String(err) });
    closeWithError(s, new AtProtocolError("AT0011", "Internal server exception", { closes: true }));
    return false;
  }
  // Authenticated now: out of the strangers' share, into the reserved slots.
  if (wasStranger && st.conn.state.auth !== "none") releaseStranger(L.strangers, s);
  if (answer !== null && !st.ending) write(s, answer);
  return true;
}

function onData(L: ListenerState, s: Sock, chunk: Uint8Array): void {
  const st = s.data;
  if (st.conn.closed) return;
  if (st.http !== null) return httpData(st.http, chunk);
  const tooLong = (max: number) => {
    L.handler.onRefuse?.("line_too_long");
    closeWithError(s, new AtProtocolError("AT0005", `${ERROR_CODES.AT0005.description}: request is longer than ${max} bytes`));
  };
  let lines: string[];
  try {
    lines = pushChunk(st.lines, chunk);
  } catch (err) {
    if (!(err instanceof LineTooLongError)) throw err;
    return tooLong(L.limits.maxLineBytes);
  }
  // Lines queued before an auth verb is answered are still judged as unauthenticated: the cheap bound.
  if (st.conn.state.auth === "none" && (st.lines.bytes > L.limits.maxUnauthLineBytes || lines.some((l) => l.length > L.limits.maxUnauthLineBytes))) {
    return tooLong(L.limits.maxUnauthLineBytes);
  }
  // Only whole lines count as activity: a byte now and then keeps nothing open (slowloris).
  const now = Date.now();
  if (st.lines.bytes === 0) st.lineStartedAt = 0;
  else if (lines.length > 0 || st.lineStartedAt === 0) st.lineStartedAt = now;
  if (lines.length === 0) return;
  st.conn.lastActivityAt = now;
  noteLine(L, s, now);
  st.pending.push(...lines);
  if (st.pending.length >= L.limits.maxPendingLines && !st.paused) {
    st.paused = true;
    s.pause();
  }
  void pump(L, s);
}

/** Why a connection must go now, or null: handshake, line and age deadlines, then the idle limits. */
function overdue(L: ListenerState, st: SocketState, now: number, idle: { unauth: number; auth: number }): AtProtocolError | "silent" | null {
  const l = L.limits;
  const stranger = st.conn.state.auth === "none";
  if (!st.ready) return now - st.openedAt > l.handshakeTimeoutMs ? "silent" : null;
  const lineDeadline = stranger ? l.unauthLineDeadlineMs : l.authLineDeadlineMs;
  if (st.lineStartedAt !== 0 && now - st.lineStartedAt > lineDeadline) {
    return new AtProtocolError("AT0013", `${ERROR_CODES.AT0013.description}: request not completed within ${lineDeadline} ms`);
  }
  if (stranger && now - st.openedAt > l.unauthMaxAgeMs) {
    return new AtProtocolError("AT0013", `${ERROR_CODES.AT0013.description}: not authenticated within ${l.unauthMaxAgeMs} ms`);
  }
  if (!st.busy && now - st.conn.lastActivityAt > (stranger ? idle.unauth : idle.auth)) return "silent";
  return null;
}

function sweep(L: ListenerState): void {
  const now = Date.now();
  const fill = L.sockets.size / L.limits.maxConnections;
  const idle = {
    unauth: idleLimitMs(L.limits.unauthIdleMs, UNAUTH_IDLE_FLOOR_MS, fill),
    auth: idleLimitMs(L.limits.authIdleMs, AUTH_IDLE_FLOOR_MS, fill),
  };
  for (const s of L.sockets) {
    const why = overdue(L, s.data, now, idle);
    if (why === null) continue;
    log.debug("closing an overdue connection", { conn: s.data.conn.id, why: why === "silent" ? "idle or handshake" : why.message });
    L.handler.onRefuse?.(why === "silent" ? "idle" : "deadline");
    if (why === "silent") {
      s.data.conn.closed = true;
      s.end();
    } else closeWithError(s, why);
  }
}

/** The sweep runs often enough that no deadline is late by more than a quarter of itself (at most 1 s). */
function sweepIntervalMs(l: ListenerLimits): number {
  const shortest = Math.min(l.handshakeTimeoutMs, l.unauthLineDeadlineMs, l.authLineDeadlineMs, l.unauthIdleMs, l.unauthMaxAgeMs);
  return Math.max(10, Math.min(IDLE_CHECK_INTERVAL_MS, shortest / 4));
}

/** ALPN protocols offered when HTTP is served (wire form: length-prefixed names), the reference's two. */
const ALPN_WITH_HTTP = new Uint8Array([14, ...new TextEncoder().encode("atProtocol/1.0"), 8, ...new TextEncoder().encode(HTTP_ALPN)]).buffer;

/**
 * A connection whose handshake selected `http/1.1` gets one HTTP request, answered by `http`; it stays a
 * stranger (its budgets and age limit apply), and its head must be complete within the strangers' line deadline.
 */
function startHttp(L: ListenerState, s: Sock, http: HttpAnswer): void {
  const st = s.data;
  st.ready = true;
  st.http = newHttpExchange({ write: (t) => write(s, t), end: () => endWhenFlushed(s) }, http, L.limits.unauthLineDeadlineMs);
}

/**
 * Starts listening. `tls.ca` is used to verify client certificates, which are requested but not required
 * (server-to-server `from:` needs them; ordinary clients have none). With `http`, ALPN offers `atProtocol/1.0`
 * and `http/1.1`; a connection that selects neither (no ALPN) is atProtocol as without it.
 */
export function startListener(opts: {
  host: string;
  port: number;
  tls: { key: string; cert: string; ca?: string | string[] };
  limits?: Partial<ListenerLimits>;
  handler: LineHandler;
  http?: HttpAnswer;
  /** Shared with other listeners of this process for the CPU share; default a record of its own. */
  activity?: LineActivity;
}): Listener {
  const limits: ListenerLimits = { ...DEFAULT_LISTENER_LIMITS, ...opts.limits };
  const L: ListenerState = {
    limits,
    handler: opts.handler,
    sockets: new Set(),
    perAddress: new Map(),
    strangers: newStrangerPool({
      total: Math.max(1, Math.floor(limits.maxConnections * limits.unauthShare)),
      perAddress: limits.maxUnauthPerAddress,
      perPrefix: limits.maxUnauthPerPrefix,
      churnPerPrefix: limits.maxUnauthChurnPerPrefix,
      churnWindowMs: limits.unauthChurnWindowMs,
    }),
    activity: opts.activity ?? newLineActivity(),
  };

  const server: TCPSocketListener<SocketState> = listenOrExplain(opts.host, opts.port, () => Bun.listen<SocketState>({
    hostname: opts.host,
    port: opts.port,
    tls: { key: opts.tls.key, cert: opts.tls.cert, ca: opts.tls.ca, requestCert: true, rejectUnauthorized: false, ...(opts.http ? { ALPNProtocols: ALPN_WITH_HTTP } : {}) },
    socket: {
      open(s) {
        s.data = newSocketState(s, limits, opts.handler);
        const admission = admit(L, s);
        if (admission !== "ok") s.data.conn.closed = true;
        if (admission === "drop") s.end();
      },
      handshake(s, success) {
        const st = s.data;
        if (!success) {
          opts.handler.onRefuse?.("tls_handshake");
          return void s.end();
        }
        if (!st.counted) {
          // Refused at open, or evicted before its handshake ended: the reference's form, no prompt, close
          // (an HTTP connection has no atProtocol form to read: just the close).
          if (s.alpnProtocol === HTTP_ALPN) return void s.end();
          st.ending = true;
          write(s, inboundLimitResponse());
          return endWhenFlushed(s);
        }
        if (opts.http && s.alpnProtocol === HTTP_ALPN) return startHttp(L, s, opts.http);
        st.ready = true;
        write(s, "@");
      },
      data: (s, chunk) => onData(L, s, chunk),
      drain(s) {
        const st = s.data;
        if (!flush(s, st.out)) return;
        if (st.ending) s.end();
        else if (st.pending.length > 0) void pump(L, s);
      },
      close(s) {
        if (s.data?.http) httpClosed(s.data.http);
        if (s.data) uncount(L, s);
      },
      error(s, err) {
        log.debug("socket error", { conn: s.data?.conn.id, error: String(err) });
      },
    },
  }));

  const sweeper = setInterval(() => sweep(L), sweepIntervalMs(limits));
  sweeper.unref();

  return {
    port: server.port,
    connectionCount: () => L.sockets.size,
    stop() {
      clearInterval(sweeper);
      server.stop(true);
    },
  };
}
