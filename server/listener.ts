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
import { newConnection, type Connection } from "./connection.ts";
import type { ConnectionRefusal } from "./metrics/server_metrics.ts";

/** Limits of the listener; every one has a default below. */
export interface ListenerLimits {
  /** Longest request line (bytes); beyond it AT0005 and close. */
  maxLineBytes: number;
  /** Longest line before authentication (bytes): strangers cannot make us buffer 10 MB per connection. */
  maxUnauthLineBytes: number;
  /** Open connections in total; beyond it AT0012 and close. */
  maxConnections: number;
  /** Open connections from one address; beyond it AT0012 and close. */
  maxConnectionsPerAddress: number;
  /** Idle time before an unauthenticated connection is closed. */
  unauthIdleMs: number;
  /** Idle time before an authenticated connection is closed. */
  authIdleMs: number;
  /** Lines read ahead of the one being answered before the socket is paused. */
  maxPendingLines: number;
  /** Outgoing bytes queued for a slow reader before its connection is closed. */
  maxQueuedWriteBytes: number;
}

/** Defaults: the reference's request size, a pool like its config (200), short unauthenticated idle. */
export const DEFAULT_LISTENER_LIMITS: ListenerLimits = {
  maxLineBytes: MAX_REQUEST_BYTES,
  maxUnauthLineBytes: 64 * 1024,
  maxConnections: 200,
  maxConnectionsPerAddress: 100,
  unauthIdleMs: 60_000,
  authIdleMs: 60 * 60_000,
  maxPendingLines: 16,
  maxQueuedWriteBytes: 16 * 1024 * 1024,
};

/** How often idle connections are looked for. */
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
  /** Counted in the connection totals (false for sockets refused at open). */
  counted: boolean;
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
function peerCertificate(s: Socket<SocketState>): X509Certificate | undefined {
  try {
    return s.getPeerX509Certificate() ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts listening. `tls.ca` is used to verify client certificates, which are requested but not required
 * (server-to-server `from:` needs them; ordinary clients have none).
 */
export function startListener(opts: {
  host: string;
  port: number;
  tls: { key: string; cert: string; ca?: string | string[] };
  limits?: Partial<ListenerLimits>;
  handler: LineHandler;
}): Listener {
  const limits: ListenerLimits = { ...DEFAULT_LISTENER_LIMITS, ...opts.limits };
  const sockets = new Set<Socket<SocketState>>();
  const perAddress = new Map<string, number>();

  const endWhenFlushed = (s: Socket<SocketState>) => {
    const st = s.data;
    st.conn.closed = true;
    st.ending = true;
    if (st.out.chunks.length === 0) s.end();
  };
  const write = (s: Socket<SocketState>, text: string) => {
    const st = s.data;
    if (st.conn.closed && !st.ending) return;
    const r = send(s, st.out, text);
    if (r === "overflow") {
      opts.handler.onRefuse?.("slow_reader");
      log.warn("closing a connection that does not read its responses", { conn: st.conn.id });
      st.out.chunks.length = 0;
      st.out.bytes = 0;
      st.conn.closed = true;
      s.end();
    }
  };

  const pump = async (s: Socket<SocketState>) => {
    const st = s.data;
    if (st.busy) return;
    st.busy = true;
    try {
      // A peer that does not read gets no further answers until it does (drain resumes the pump), so one
      // connection never holds more than one unread response.
      while (st.pending.length > 0 && !st.conn.closed && st.out.chunks.length === 0) {
        const line = st.pending.shift()!;
        let answer: string | null;
        try {
          const r = opts.handler.handleLine(st.conn, line);
          answer = r instanceof Promise ? await r : r;
        } catch (err) {
          log.error("request failed", { conn: st.conn.id, error: String(err) });
          const e = new AtProtocolError("AT0011", "Internal server exception", { closes: true });
          write(s, errorResponse(e, { state: st.conn.state, clientVersion: st.conn.clientVersion }));
          endWhenFlushed(s);
          return;
        }
        if (answer !== null && !st.ending) write(s, answer);
      }
    } finally {
      st.busy = false;
      if (st.paused && st.pending.length < limits.maxPendingLines && !st.conn.closed) {
        st.paused = false;
        s.resume();
      }
    }
  };

  const server: TCPSocketListener<SocketState> = listenOrExplain(opts.host, opts.port, () => Bun.listen<SocketState>({
    hostname: opts.host,
    port: opts.port,
    tls: { key: opts.tls.key, cert: opts.tls.cert, ca: opts.tls.ca, requestCert: true, rejectUnauthorized: false },
    socket: {
      open(s) {
        const address = s.remoteAddress;
        const st: SocketState = {
          conn: newConnection(address, {
            write: (t) => write(s, t),
            close: () => endWhenFlushed(s),
            peerCertificate: () => peerCertificate(s),
            peerAuthorized: () => s.authorized,
            queuedBytes: () => st.out.bytes,
            abort: () => {
              st.out.chunks.length = 0;
              st.out.bytes = 0;
              st.conn.closed = true;
              s.end();
            },
          }),
          lines: newLineBuffer(limits.maxLineBytes),
          out: newWriteQueue(limits.maxQueuedWriteBytes),
          pending: [],
          busy: false,
          paused: false,
          ending: false,
          counted: false,
        };
        s.data = st;
        const fromAddress = perAddress.get(address) ?? 0;
        if (sockets.size >= limits.maxConnections || fromAddress >= limits.maxConnectionsPerAddress) {
          opts.handler.onRefuse?.(sockets.size >= limits.maxConnections ? "capacity" : "per_address");
          st.conn.closed = true;
          return;
        }
        st.counted = true;
        sockets.add(s);
        perAddress.set(address, fromAddress + 1);
        opts.handler.onOpen?.(st.conn);
      },
      handshake(s, success) {
        const st = s.data;
        if (!success) {
          opts.handler.onRefuse?.("tls_handshake");
          s.end();
          return;
        }
        if (!st.counted) {
          // The reference writes this form without a prompt and closes.
          st.ending = true;
          write(s, inboundLimitResponse());
          endWhenFlushed(s);
          return;
        }
        write(s, "@");
      },
      data(s, chunk) {
        const st = s.data;
        if (st.conn.closed) return;
        st.conn.lastActivityAt = Date.now();
        const tooLong = (max: number) => {
          opts.handler.onRefuse?.("line_too_long");
          const e = new AtProtocolError("AT0005", `${ERROR_CODES.AT0005.description}: request is longer than ${max} bytes`);
          write(s, errorResponse(e, { state: st.conn.state, clientVersion: st.conn.clientVersion }));
          endWhenFlushed(s);
        };
        let lines: string[];
        try {
          lines = pushChunk(st.lines, chunk);
        } catch (err) {
          if (!(err instanceof LineTooLongError)) throw err;
          return tooLong(limits.maxLineBytes);
        }
        // Lines queued before an auth verb is answered are still judged as unauthenticated: the cheap bound.
        if (st.conn.state.auth === "none" && (st.lines.bytes > limits.maxUnauthLineBytes || lines.some((l) => l.length > limits.maxUnauthLineBytes))) {
          return tooLong(limits.maxUnauthLineBytes);
        }
        if (lines.length === 0) return;
        st.pending.push(...lines);
        if (st.pending.length >= limits.maxPendingLines && !st.paused) {
          st.paused = true;
          s.pause();
        }
        void pump(s);
      },
      drain(s) {
        const st = s.data;
        if (!flush(s, st.out)) return;
        if (st.ending) s.end();
        else if (st.pending.length > 0) void pump(s);
      },
      close(s) {
        const st = s.data;
        if (!st) return;
        st.conn.closed = true;
        if (st.counted) {
          st.counted = false;
          sockets.delete(s);
          const n = (perAddress.get(st.conn.address) ?? 1) - 1;
          if (n <= 0) perAddress.delete(st.conn.address);
          else perAddress.set(st.conn.address, n);
          opts.handler.onClose?.(st.conn);
        }
      },
      error(s, err) {
        log.debug("socket error", { conn: s.data?.conn.id, error: String(err) });
      },
    },
  }));

  const idleTimer = setInterval(() => {
    const now = Date.now();
    const fill = sockets.size / limits.maxConnections;
    const unauthLimit = idleLimitMs(limits.unauthIdleMs, UNAUTH_IDLE_FLOOR_MS, fill);
    const authLimit = idleLimitMs(limits.authIdleMs, AUTH_IDLE_FLOOR_MS, fill);
    for (const s of sockets) {
      const c = s.data.conn;
      const limit = c.state.auth === "none" ? unauthLimit : authLimit;
      if (!s.data.busy && now - c.lastActivityAt > limit) {
        log.debug("closing idle connection", { conn: c.id });
        opts.handler.onRefuse?.("idle");
        c.closed = true;
        s.end();
      }
    }
  }, IDLE_CHECK_INTERVAL_MS);
  idleTimer.unref();

  return {
    port: server.port,
    connectionCount: () => sockets.size,
    stop() {
      clearInterval(idleTimer);
      server.stop(true);
    },
  };
}
