/**
 * The root (directory) wire protocol over TLS, byte for byte as the reference root server speaks it:
 *
 *   S: @                      as its own write once the TLS handshake is done
 *   C: alice\n                (`@alice`, `ALICE`, `alice\r\n` are the same lookup)
 *   S: host:port\r\n@         found, one write
 *   S: null\r\n@              not found; the 2nd miss on a connection is answered after a delay,
 *                             the 3rd closes the connection after that delay, without a reply
 *   C: @exit\n                the server closes
 *
 * A line (with its `\n`) may be at most 255 bytes; more closes the connection. Lines sent while a delayed
 * reply is pending are answered in order afterwards. The reference has no idle limit and no connection
 * bounds; we add both so that a directory on the open internet cannot be exhausted by idle or dripping
 * sockets: a line must end within a deadline, only whole lines count as activity, connections are bounded in
 * total, per address and per /24 or /64, and a newcomer to a full bound takes the place of the oldest
 * connection there (core/net/stranger_pool.ts), so a client from elsewhere is always answered. Misses are
 * also throttled per address and per prefix, so reconnecting does not reset the reference's throttle.
 */
import type { Socket, TCPSocketListener } from "bun";
import { logger } from "../core/log.ts";
import { newHistogram, observe, type Histogram } from "../core/metrics/histogram.ts";
import { LineTooLongError, newLineBuffer, pushChunk, type LineBuffer } from "../core/net/line_buffer.ts";
import { canonicalAddress, networkPrefix } from "../core/net/address_prefix.ts";
import { admitStranger, newStrangerPool, releaseStranger, type StrangerPool } from "../core/net/stranger_pool.ts";
import { countEvent, newWindowCounter, retryAfterMs, type WindowCounter } from "../core/net/window_counter.ts";
import { flush, newWriteQueue, send, type WriteQueue } from "../core/net/write_queue.ts";
import type { LookupResult } from "./registry.ts";

/** Reference input buffer capacity, the terminating `\n` included. */
export const ROOT_LINE_LIMIT_BYTES = 255;
/** Reference delay before answering the 2nd and 3rd miss on one connection. */
export const ROOT_MISS_DELAY_MS = 3_000;
/** A connection with no complete line for this long is closed (clients look up and leave within seconds). */
export const ROOT_IDLE_TIMEOUT_MS = 30_000;
/** A line must end (its `\n`) within this time of its first byte; then the connection is closed. */
export const ROOT_LINE_DEADLINE_MS = 5_000;
/** A connection must finish its TLS handshake within this time. */
export const ROOT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Open connections in total; a newcomer beyond it replaces the oldest of the prefix holding the most. */
export const ROOT_MAX_CONNECTIONS = 10_000;
/** Open connections per remote address; a newcomer beyond it replaces that address's oldest. */
export const ROOT_MAX_CONNECTIONS_PER_IP = 64;
/** Open connections per /24 (IPv4) or /64 (IPv6); a newcomer beyond it replaces that prefix's oldest. */
export const ROOT_MAX_CONNECTIONS_PER_PREFIX = 256;
/** Times per churn window a prefix may push out one of its own connections; then its newcomers are closed at accept. */
export const ROOT_CHURN_PER_PREFIX = 256;
/** Length of a churn window. */
export const ROOT_CHURN_WINDOW_MS = 10_000;
/** Misses one address may have in a miss window before each further miss waits and hangs up (the 3rd-miss rule). */
export const ROOT_MISSES_PER_ADDRESS = 10;
/** The same for one /24 or /64. */
export const ROOT_MISSES_PER_PREFIX = 50;
/** Length of a miss window. */
export const ROOT_MISS_WINDOW_MS = 10_000;
/** Addresses and prefixes whose misses are tracked at once (core/net/window_counter.ts forgets the oldest). */
const ROOT_MISS_KEYS_MAX = 100_000;
/** Complete lines waiting behind a delayed reply; more closes the connection. */
export const ROOT_MAX_PENDING_LINES = 16;
/** Unsent reply bytes per connection (a client that does not read); more closes the connection. */
export const ROOT_WRITE_QUEUE_LIMIT_BYTES = 64 * 1024;
/** Upper bound on how often deadlines are checked. */
const SWEEP_INTERVAL_MAX_MS = 1_000;

/** Tunables of the listener; tests shorten the delays, operators may change the bounds. */
export interface RootLimits {
  missDelayMs: number;
  idleTimeoutMs: number;
  lineDeadlineMs: number;
  handshakeTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  maxConnectionsPerPrefix: number;
  churnPerPrefix: number;
  churnWindowMs: number;
  missesPerAddress: number;
  missesPerPrefix: number;
  missWindowMs: number;
}

/** The reference delay and our bounds. */
export const ROOT_DEFAULT_LIMITS: RootLimits = {
  missDelayMs: ROOT_MISS_DELAY_MS,
  idleTimeoutMs: ROOT_IDLE_TIMEOUT_MS,
  lineDeadlineMs: ROOT_LINE_DEADLINE_MS,
  handshakeTimeoutMs: ROOT_HANDSHAKE_TIMEOUT_MS,
  maxConnections: ROOT_MAX_CONNECTIONS,
  maxConnectionsPerIp: ROOT_MAX_CONNECTIONS_PER_IP,
  maxConnectionsPerPrefix: ROOT_MAX_CONNECTIONS_PER_PREFIX,
  churnPerPrefix: ROOT_CHURN_PER_PREFIX,
  churnWindowMs: ROOT_CHURN_WINDOW_MS,
  missesPerAddress: ROOT_MISSES_PER_ADDRESS,
  missesPerPrefix: ROOT_MISSES_PER_PREFIX,
  missWindowMs: ROOT_MISS_WINDOW_MS,
};

/** Where to listen, with which certificate, and how to resolve a key. */
export interface RootListenerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  tls: { key: string; cert: string };
  /** Maps a lower-cased @sign body (no `@`) to `host:port`, or null; at once or through a promise. */
  lookup: (key: string) => LookupResult;
  limits?: Partial<RootLimits>;
}

/** Counters since start, for logs and the bench. */
export interface RootStats {
  connections: number;
  lookups: number;
  found: number;
  misses: number;
  /**
   * Misses answered late or by hanging up: the reference's throttle (every miss after the first on a connection),
   * and every miss of an address or prefix past its share, on whichever connection it comes.
   */
  throttled: number;
  /** Time the registry took per lookup (seconds). */
  lookupSeconds: Histogram;
  /** Connections closed to make room for a newcomer (a bound was reached), or at accept (their prefix churned too often). */
  refused: number;
  /** Connections closed for a line over the limit, too many pending lines, or an unread reply queue. */
  overflows: number;
  /** Connections closed by the handshake, line or idle deadline. */
  timeouts: number;
}

/** Open connections: in the TLS handshake, ready for a line, or waiting out a throttled miss. */
export interface RootConnectionStates {
  handshake: number;
  ready: number;
  throttled: number;
}

/** A running root listener. */
export interface RootListener {
  host: string;
  port: number;
  stats(): RootStats;
  /** Open connections by state, counted now. */
  connectionStates(): RootConnectionStates;
  /** Closes the listener and every connection. */
  stop(): void;
}

interface RootConn {
  ip: string;
  /** Counted in the bounds (false once closed or evicted). */
  counted: boolean;
  /** TLS is up and the prompt was sent. */
  ready: boolean;
  closed: boolean;
  deadlineMs: number;
  /** When the unfinished line got its first byte (0: none). */
  lineStartedMs: number;
  misses: number;
  /** Set while a delayed miss reply is pending; lines wait in `pending` meanwhile. */
  delay: ReturnType<typeof setTimeout> | null;
  /** True while the registry answers a lookup asynchronously; lines wait in `pending` meanwhile too. */
  asking: boolean;
  pending: string[];
  lines: LineBuffer;
  out: WriteQueue;
}

type RootSocket = Socket<RootConn>;

const log = logger("directory");
const EXIT = "@exit";
const decoder = new TextDecoder();

/**
 * Starts the root protocol listener. Throws the runtime's bind error (code EADDRINUSE, EACCES...) at once.
 * @example const root = listenRoot({ host: "127.0.0.1", port: 0, tls, lookup: (k) => registry.lookup(k) });
 */
export function listenRoot(opts: RootListenerOptions): RootListener {
  const given = Object.entries(opts.limits ?? {}).filter(([, v]) => v !== undefined);
  const limits: RootLimits = { ...ROOT_DEFAULT_LIMITS, ...Object.fromEntries(given) };
  // Every root connection is a stranger: there is no authentication to move one out of the pool.
  const conns: StrangerPool<RootSocket> = newStrangerPool({
    total: limits.maxConnections,
    perAddress: limits.maxConnectionsPerIp,
    perPrefix: limits.maxConnectionsPerPrefix,
    churnPerPrefix: limits.churnPerPrefix,
    churnWindowMs: limits.churnWindowMs,
  });
  const missWindow = (max: number) => newWindowCounter({ max, windowMs: limits.missWindowMs, maxKeys: ROOT_MISS_KEYS_MAX });
  const misses = { byAddress: missWindow(limits.missesPerAddress), byPrefix: missWindow(limits.missesPerPrefix) };
  const stats: RootStats = { connections: 0, lookups: 0, found: 0, misses: 0, refused: 0, throttled: 0, lookupSeconds: newHistogram(), overflows: 0, timeouts: 0 };

  const close = (s: RootSocket) => {
    if (!s.data.closed) s.end();
  };
  const forget = (s: RootSocket) => {
    if (!s.data.counted) return;
    s.data.counted = false;
    releaseStranger(conns, s);
  };

  const reply = (s: RootSocket, text: string) => {
    if (send(s, s.data.out, text) === "overflow") {
      stats.overflows++;
      close(s);
    }
  };

  const answer = (s: RootSocket, line: string) => {
    const conn = s.data;
    const key = line.trim().toLowerCase();
    if (key === EXIT) return close(s);
    stats.lookups++;
    let result: LookupResult;
    const startedMs = performance.now();
    try {
      result = opts.lookup(key.startsWith("@") ? key.slice(1) : key);
    } catch (err) {
      return lookupFailed(s, err);
    }
    if (!(result instanceof Promise)) return answerWith(s, result, startedMs);
    conn.asking = true;
    result.then(
      (address) => {
        conn.asking = false;
        if (conn.closed) return;
        answerWith(s, address, startedMs);
        pump(s);
      },
      (err) => lookupFailed(s, err),
    );
  };

  const lookupFailed = (s: RootSocket, err: unknown) => {
    log.error("lookup failed", { error: String(err) });
    close(s);
  };

  const answerWith = (s: RootSocket, address: string | null, startedMs: number) => {
    const conn = s.data;
    observe(stats.lookupSeconds, (performance.now() - startedMs) / 1000);
    if (address !== null) {
      stats.found++;
      return reply(s, address + "\r\n@");
    }
    stats.misses++;
    conn.misses++;
    if (overMissShare(misses, conn.ip)) {
      // Reconnecting must not reset the throttle: this address or prefix gets the 3rd-miss treatment.
      conn.misses = Math.max(conn.misses, 3);
    }
    if (conn.misses === 1) return reply(s, "null\r\n@");
    stats.throttled++;
    // Reference abuse throttle: the 2nd miss waits, the 3rd waits and then hangs up.
    conn.delay = setTimeout(() => {
      conn.delay = null;
      if (conn.closed) return;
      if (conn.misses > 2) return close(s);
      reply(s, "null\r\n@");
      pump(s);
    }, limits.missDelayMs);
  };

  const pump = (s: RootSocket) => {
    const conn = s.data;
    while (!conn.closed && conn.delay === null && !conn.asking && conn.pending.length > 0) answer(s, conn.pending.shift()!);
  };

  // The reference also closes when the unterminated input so far is `@exit`.
  const isBareExit = (buf: LineBuffer) =>
    buf.bytes >= EXIT.length && buf.bytes <= EXIT.length + 2 && decoder.decode(Buffer.concat(buf.parts)).trim().toLowerCase() === EXIT;

  const server: TCPSocketListener<RootConn> = Bun.listen<RootConn>({
    hostname: opts.host,
    port: opts.port,
    tls: { key: opts.tls.key, cert: opts.tls.cert },
    socket: {
      open(s) {
        const ip = s.remoteAddress;
        s.data = {
          ip,
          counted: true,
          ready: false,
          closed: false,
          deadlineMs: Date.now() + limits.handshakeTimeoutMs,
          lineStartedMs: 0,
          misses: 0,
          delay: null,
          asking: false,
          pending: [],
          lines: newLineBuffer(ROOT_LINE_LIMIT_BYTES - 1),
          out: newWriteQueue(ROOT_WRITE_QUEUE_LIMIT_BYTES),
        };
        const admission = admitStranger(conns, s, ip);
        stats.connections++;
        if (!admission.admitted) {
          // Closed before the TLS handshake: a prefix that keeps reconnecting into its full share costs little.
          stats.refused++;
          s.data.counted = false;
          return close(s);
        }
        const evicted = admission.evicted;
        if (evicted === null) return;
        stats.refused++;
        log.debug("connection closed to make room: bound reached", { ip: evicted.data.ip, total: conns.members.size });
        forget(evicted);
        close(evicted);
      },
      handshake(s, success) {
        if (!success || s.data.closed) return close(s);
        s.data.ready = true;
        s.data.deadlineMs = Date.now() + limits.idleTimeoutMs;
        reply(s, "@");
      },
      data(s, chunk) {
        const conn = s.data;
        if (!conn.ready || conn.closed) return;
        let lines: string[];
        try {
          lines = pushChunk(conn.lines, chunk);
        } catch (err) {
          if (!(err instanceof LineTooLongError)) throw err;
          stats.overflows++;
          return close(s);
        }
        // Only whole lines count as activity: a byte now and then keeps nothing open (slowloris).
        const now = Date.now();
        if (lines.length > 0) conn.deadlineMs = now + limits.idleTimeoutMs;
        if (conn.lines.bytes === 0) conn.lineStartedMs = 0;
        else if (lines.length > 0 || conn.lineStartedMs === 0) conn.lineStartedMs = now;
        conn.pending.push(...lines);
        pump(s);
        // Lines only pile up behind a delayed miss reply or a registry query; a client that keeps sending then is flooding.
        if (conn.pending.length > ROOT_MAX_PENDING_LINES) {
          stats.overflows++;
          return close(s);
        }
        if (!conn.closed && conn.pending.length === 0 && conn.delay === null && isBareExit(conn.lines)) close(s);
      },
      drain(s) {
        flush(s, s.data.out);
      },
      close(s) {
        const conn = s.data;
        conn.closed = true;
        if (conn.delay) clearTimeout(conn.delay);
        conn.delay = null;
        forget(s);
      },
      error(_s, err) {
        log.debug("connection error", { error: String(err) });
      },
    },
  });

  const sweepMs = Math.max(10, Math.min(SWEEP_INTERVAL_MAX_MS, limits.idleTimeoutMs / 4, limits.handshakeTimeoutMs / 4, limits.lineDeadlineMs / 4));
  const overdue = (c: RootConn, now: number) =>
    c.delay === null && (c.deadlineMs <= now || (c.lineStartedMs !== 0 && now - c.lineStartedMs > limits.lineDeadlineMs));
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const s of conns.members.keys()) {
      if (overdue(s.data, now)) {
        stats.timeouts++;
        close(s);
      }
    }
  }, sweepMs);
  sweeper.unref();

  return {
    host: opts.host,
    port: server.port,
    stats: () => ({ ...stats }),
    connectionStates() {
      const states: RootConnectionStates = { handshake: 0, ready: 0, throttled: 0 };
      for (const s of conns.members.keys()) states[s.data.delay !== null ? "throttled" : s.data.ready ? "ready" : "handshake"]++;
      return states;
    },
    stop() {
      clearInterval(sweeper);
      for (const s of conns.members.keys()) close(s);
      server.stop(true);
    },
  };
}

/** Counts a miss from `ip`; true when its address or prefix had its share of misses in this window already. */
function overMissShare(m: { byAddress: WindowCounter; byPrefix: WindowCounter }, ip: string): boolean {
  const prefix = networkPrefix(ip);
  const address = canonicalAddress(ip);
  const over = retryAfterMs(m.byAddress, address) > 0 || retryAfterMs(m.byPrefix, prefix) > 0;
  countEvent(m.byAddress, address);
  countEvent(m.byPrefix, prefix);
  return over;
}
