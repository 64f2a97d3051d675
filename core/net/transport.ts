/**
 * One TLS client socket with the same interface on Bun and Deno, so code above it (the client SDK's connection
 * layer) runs on both. Bun uses `Bun.connect` with `tls`; Deno uses `Deno.connectTls`, whose rustls stack
 * checks the chain against `ca` and the certificate's names (DNS or IP) against `host`.
 *
 * Both sides: the promise resolves only after the handshake and the certificate check, within one deadline;
 * writes are queued and bounded (`write` never loses bytes: Bun's partial writes are resumed on `drain`, Deno's
 * `conn.write` is looped); `closeWrite` half-closes after the queue drained; the peer's half-close is reported
 * (`end`) instead of closing when the owner wants to keep writing.
 *
 * Only the runtime globals are touched here, through the small local types below, so `deno check` of the SDK
 * does not pull in Bun's type declarations (which would hide any other `Bun.*` use).
 */
import { flush, newWriteQueue, send, type SendResult, type WriteQueue } from "./write_queue.ts";

/** Where to connect and whom to trust. */
export interface TlsClientTarget {
  host: string;
  port: number;
  /** PEM CA certificates the server's chain must end in (core/net/tls.ts `trustedCas`). */
  ca: string[];
}

/** What the owner of the transport hears once it is open. */
export interface TransportEvents {
  /** Bytes received; the chunk is the owner's to keep. */
  data(chunk: Uint8Array): void;
  /** The peer half-closed. Without this handler the transport closes, as most protocols want. */
  end?(): void;
  /** Fires once, when the socket is gone for any reason (also after `close()`). */
  closed(reason: string): void;
}

/** Connect-time limits. */
export interface TransportOptions {
  /** Deadline for TCP connect + TLS handshake. */
  timeoutMs: number;
  /** Bound on bytes queued for the peer; `write` reports "overflow" above it. */
  writeLimitBytes: number;
}

/** An open TLS connection. */
export interface TlsTransport {
  /**
   * Queues bytes for the peer. "overflow" = the queue is over its bound (bytes are kept; the caller decides,
   * usually by closing), "closed" = nothing was queued. On Deno writes are asynchronous, so "queued" is the
   * normal answer there.
   */
  write(data: Uint8Array | string): SendResult;
  /** Resolves once every queued byte was handed to the runtime (or the socket closed): backpressure. */
  drained(): Promise<void>;
  /** Sends FIN (TLS close_notify) after the queued bytes; reading goes on until the peer closes. */
  closeWrite(): void;
  /**
   * Closes now and tells `closed`. Bytes the runtime already took still leave (FIN after them); on Deno the
   * queued ones too, and a socket whose peer does not finish within CLOSE_FLUSH_TIMEOUT_MS is cut.
   */
  close(): void;
  readonly isOpen: boolean;
}

/** Why a connect failed; the message is the runtime's detail, the owner adds the address and the advice. */
export type TransportFailure = "timeout" | "untrusted" | "unreachable" | "failed";

/** A connect that did not produce an open transport. */
export class TransportError extends Error {
  override name = "TransportError";
  constructor(
    message: string,
    readonly kind: TransportFailure,
  ) {
    super(message);
  }
}

/** Size of the buffer one Deno read fills; chunks handed to `data` are copies of at most this size. */
export const DENO_READ_BUFFER_BYTES = 64 * 1024;
/** How long a closed socket may still drain queued bytes (Deno) or wait for the peer's FIN (Bun, half-open) before it is cut. */
export const CLOSE_FLUSH_TIMEOUT_MS = 1000;

/**
 * Connects over TLS with the host name check, on whichever runtime runs us.
 * @example const t = await connectTlsTransport({ host: "127.0.0.1", port, ca }, { data: onData, closed: onClosed }, { timeoutMs: 5000, writeLimitBytes: 1 << 20 });
 */
export function connectTlsTransport(target: TlsClientTarget, events: TransportEvents, opts: TransportOptions): Promise<TlsTransport> {
  const runtime = globalThis as unknown as { Bun?: BunNs; Deno?: DenoNs };
  if (runtime.Bun) return connectBun(runtime.Bun, target, events, opts);
  if (runtime.Deno) return connectDeno(runtime.Deno, target, events, opts);
  return Promise.reject(new TransportError("no TLS client for this runtime (Bun or Deno needed)", "failed"));
}

// ---- Bun ----------------------------------------------------------------------------------------------

/** The part of Bun's socket API used here. */
interface BunSocket {
  data: BunState;
  readonly authorized: boolean;
  write(bytes: Uint8Array): number;
  end(): void;
  shutdown(): void;
  terminate(): void;
  getAuthorizationError(): Error | null;
}
interface BunNs {
  connect(opts: {
    hostname: string;
    port: number;
    data: BunState;
    allowHalfOpen: boolean;
    tls: { ca: string[]; serverName: string; rejectUnauthorized: boolean };
    socket: {
      binaryType: "uint8array";
      open(s: BunSocket): void;
      handshake(s: BunSocket, ok: boolean, err: Error | null): void;
      data(s: BunSocket, chunk: Uint8Array): void;
      drain(s: BunSocket): void;
      end(s: BunSocket): void;
      close(s: BunSocket, err?: Error): void;
      error(s: BunSocket, err: Error): void;
      connectError(s: BunSocket, err: Error): void;
    };
  }): Promise<unknown>;
}
interface BunState {
  queue: WriteQueue;
  open: boolean;
  /** closeWrite was asked while bytes were still queued. */
  shutdownPending: boolean;
  drainWaiters: (() => void)[];
  /** Set by close() in half-open mode: cuts a socket whose peer does not close. */
  cutTimer?: ReturnType<typeof setTimeout>;
}

function connectBun(bun: BunNs, target: TlsClientTarget, events: TransportEvents, opts: TransportOptions): Promise<TlsTransport> {
  return new Promise<TlsTransport>((resolve, reject) => {
    let settled = false;
    let socket: BunSocket | undefined;
    const state: BunState = { queue: newWriteQueue(opts.writeLimitBytes), open: false, shutdownPending: false, drainWaiters: [] };
    const fail = (message: string, kind: TransportFailure) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.terminate();
      reject(new TransportError(message, kind));
    };
    const timer = setTimeout(() => fail(`no TLS session within ${opts.timeoutMs} ms`, "timeout"), opts.timeoutMs);
    /** After the queue ran empty: a pending half-close goes out, backpressure waiters wake. */
    const afterFlush = (s: BunSocket) => {
      if (s.data.queue.chunks.length > 0 && s.data.open) return;
      if (s.data.shutdownPending && s.data.open) s.shutdown();
      s.data.shutdownPending = false;
      for (const w of s.data.drainWaiters.splice(0)) w();
    };
    const transport: TlsTransport = {
      write(data) {
        if (!state.open || !socket) return "closed";
        return send(socket, state.queue, data);
      },
      drained() {
        if (!state.open || state.queue.chunks.length === 0) return Promise.resolve();
        return new Promise((r) => state.drainWaiters.push(r));
      },
      closeWrite() {
        if (!state.open || !socket) return;
        state.shutdownPending = true;
        afterFlush(socket);
      },
      close() {
        if (!state.open || !socket) return;
        socket.end();
        if (!state.open) return; // closed synchronously: the close handler told the owner
        // Half-open mode: end() only sent our FIN. The owner is done either way; cut if the peer lingers.
        state.open = false;
        state.cutTimer = setTimeout(() => socket?.terminate(), CLOSE_FLUSH_TIMEOUT_MS);
        for (const w of state.drainWaiters.splice(0)) w();
        events.closed("closed");
      },
      get isOpen() {
        return state.open;
      },
    };
    bun
      .connect({
        hostname: target.host,
        port: target.port,
        data: state,
        // Only owners that handle the peer's FIN get half-open sockets; for the rest Bun closes on FIN.
        allowHalfOpen: events.end !== undefined,
        tls: { ca: target.ca, serverName: target.host, rejectUnauthorized: true },
        socket: {
          binaryType: "uint8array",
          open(s) {
            socket = s;
          },
          handshake(s, ok, err) {
            socket = s;
            if (!ok || !s.authorized) {
              fail(err?.message ?? s.getAuthorizationError()?.message ?? "certificate rejected", "untrusted");
              return;
            }
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            state.open = true;
            resolve(transport);
          },
          data(s, chunk) {
            if (s.data.open) events.data(chunk);
          },
          drain(s) {
            if (flush(s, s.data.queue)) afterFlush(s);
          },
          end(s) {
            if (!s.data.open) return;
            events.end?.();
          },
          close(s, err) {
            clearTimeout(s.data.cutTimer);
            const wasOpen = s.data.open;
            s.data.open = false;
            for (const w of s.data.drainWaiters.splice(0)) w();
            fail(err?.message ?? "closed during the TLS handshake", "failed");
            if (wasOpen) events.closed(err?.message ?? "closed");
          },
          error(_s, err) {
            fail(err.message, "failed");
          },
          connectError(_s, err) {
            fail(err.message, "unreachable");
          },
        },
      })
      .catch((err: Error) => fail(err.message, "unreachable"));
  });
}

// ---- Deno ---------------------------------------------------------------------------------------------

/** The part of Deno's TLS API used here. */
interface DenoTlsConn {
  handshake(): Promise<unknown>;
  read(buf: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
}
interface DenoNs {
  connectTls(opts: { hostname: string; port: number; caCerts: string[] }): Promise<DenoTlsConn>;
}

/** rustls names certificate problems like this (UnknownIssuer, NotValidForName, BadSignature, Expired...). */
const CERT_ERROR = /certificate|cert|UnknownIssuer|NotValidForName|Expired/i;

async function connectDeno(deno: DenoNs, target: TlsClientTarget, events: TransportEvents, opts: TransportOptions): Promise<TlsTransport> {
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new TransportError(`no TLS session within ${opts.timeoutMs} ms`, "timeout"));
    }, opts.timeoutMs);
  });
  const connecting = deno.connectTls({ hostname: target.host, port: target.port, caCerts: target.ca });
  // A connect that finishes after the deadline must not leak its socket.
  connecting.then((c) => timedOut && c.close(), () => {});
  let conn: DenoTlsConn;
  try {
    conn = await Promise.race([connecting, deadline]);
  } catch (e) {
    clearTimeout(timer);
    throw e instanceof TransportError ? e : new TransportError(errorText(e), "unreachable");
  }
  try {
    await Promise.race([conn.handshake(), deadline]);
  } catch (e) {
    conn.close();
    throw e instanceof TransportError ? e : new TransportError(errorText(e), CERT_ERROR.test(errorText(e)) ? "untrusted" : "failed");
  } finally {
    clearTimeout(timer);
  }
  return openDenoTransport(conn, events, opts.writeLimitBytes);
}

function openDenoTransport(conn: DenoTlsConn, events: TransportEvents, writeLimitBytes: number): TlsTransport {
  const queue: Uint8Array[] = [];
  let queuedBytes = 0;
  let open = true;
  let writing = false;
  let shutdownPending = false;
  let released = false;
  /** Our FIN went out / the peer's FIN came in: with both, the socket is done (as on Bun). */
  let writeShut = false;
  let peerEnded = false;
  let cutTimer: ReturnType<typeof setTimeout> | undefined;
  const drainWaiters: (() => void)[] = [];
  const encoder = new TextEncoder();

  /** Gives the socket back to the runtime once; later calls are no-ops. */
  const release = () => {
    if (released) return;
    released = true;
    clearTimeout(cutTimer);
    try {
      conn.close();
    } catch {
      // already closed by the runtime
    }
  };
  const finish = (reason: string) => {
    if (!open) return;
    open = false;
    for (const w of drainWaiters.splice(0)) w();
    events.closed(reason);
  };
  const pump = async () => {
    if (writing) return;
    writing = true;
    try {
      while (queue.length > 0 && !released) {
        const head = queue[0]!;
        const n = await conn.write(head);
        queuedBytes -= n;
        if (n < head.byteLength) queue[0] = head.subarray(n);
        else queue.shift();
      }
      if (shutdownPending && open) {
        shutdownPending = false;
        await conn.closeWrite();
        writeShut = true;
        if (peerEnded) finish("closed");
      }
    } catch (e) {
      finish(errorText(e));
      release();
    } finally {
      writing = false;
      for (const w of drainWaiters.splice(0)) w();
      if (!open) release();
    }
  };
  const read = async () => {
    const buf = new Uint8Array(DENO_READ_BUFFER_BYTES);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (!open) return;
        if (n === null) {
          peerEnded = true;
          if (!events.end) break;
          events.end();
          if (writeShut) break;
          return; // keep the socket for writing; the owner closes it
        }
        events.data(buf.slice(0, n)); // copy: the next read reuses buf
      }
      finish("closed");
    } catch (e) {
      finish(errorText(e));
    }
    release();
  };
  // Start reading in a later task, as Bun delivers data: every promise continuation of the connect (the
  // owner's `const link = await ...`) runs first, so no `data` reaches an owner that has no handle yet. Seen
  // with a directory whose `@` came with the handshake (test/deno/client_sdk.test.ts under Deno caught it).
  setTimeout(() => void read(), 0);

  return {
    write(data) {
      if (!open) return "closed";
      const bytes = typeof data === "string" ? encoder.encode(data) : data;
      queue.push(bytes);
      queuedBytes += bytes.byteLength;
      void pump();
      return queuedBytes > writeLimitBytes ? "overflow" : "queued";
    },
    drained() {
      if (!open || (queue.length === 0 && !writing)) return Promise.resolve();
      return new Promise((r) => drainWaiters.push(r));
    },
    closeWrite() {
      if (!open) return;
      shutdownPending = true;
      void pump();
    },
    close() {
      if (!open) return;
      finish("closed");
      if (!writing) return release();
      // The pump releases the socket when its queue is out; cut it if the peer does not read.
      cutTimer = setTimeout(release, CLOSE_FLUSH_TIMEOUT_MS);
    },
    get isOpen() {
      return open;
    },
  };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
