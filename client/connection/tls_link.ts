/**
 * One client TLS socket with the Bun details handled: writes go through core/net's partial-write queue, the
 * promise resolves only after the handshake (Bun drops writes made before it) and after the certificate and
 * host name checked out, and a deadline covers connect + handshake.
 */
import type { Socket } from "bun";
import { flush, newWriteQueue, send, type WriteQueue } from "../../core/net/write_queue.ts";
import { AtNetworkError } from "../errors.ts";

/** Where to connect and whom to trust. */
export interface TlsTarget {
  host: string;
  port: number;
  /** PEM CA certificates (core/net/tls.ts `trustedCas`). */
  ca: string[];
}

/** What the owner of the link hears. */
export interface LinkEvents {
  data(chunk: Uint8Array): void;
  /** Fires once, when the socket is gone for any reason. */
  closed(reason: string): void;
}

/** An open TLS connection. */
export interface TlsLink {
  /** Queues bytes; false when the socket is closed or the queue is over its bound (the link is then closed). */
  write(text: string): boolean;
  close(): void;
  readonly isOpen: boolean;
}

/** Bound on bytes waiting to be written to a server; a larger backlog means the server stopped reading. */
export const CLIENT_WRITE_QUEUE_LIMIT_BYTES = 32 * 1024 * 1024;

interface LinkState {
  queue: WriteQueue;
  open: boolean;
  events: LinkEvents | null;
}

/**
 * Connects and completes the TLS handshake with the host name check, within `timeoutMs`.
 * Throws AtNetworkError naming the address and what to fix.
 */
export function connectTls(target: TlsTarget, events: LinkEvents, timeoutMs: number): Promise<TlsLink> {
  const where = `${target.host}:${target.port}`;
  return new Promise<TlsLink>((resolve, reject) => {
    let settled = false;
    let socket: Socket<LinkState> | undefined;
    const state: LinkState = { queue: newWriteQueue(CLIENT_WRITE_QUEUE_LIMIT_BYTES), open: false, events: null };
    const fail = (message: string, code = "AT0021") => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.terminate();
      reject(new AtNetworkError(message, code));
    };
    const timer = setTimeout(() => fail(`Cannot connect to ${where}: no TLS session within ${timeoutMs} ms (is the server up?)`, "AT0023"), timeoutMs);
    const link: TlsLink = {
      write(text) {
        if (!state.open || !socket) return false;
        const r = send(socket, state.queue, text);
        if (r === "closed" || r === "overflow") {
          socket.end();
          return false;
        }
        return true;
      },
      close() {
        if (state.open) socket?.end();
      },
      get isOpen() {
        return state.open;
      },
    };
    Bun.connect<LinkState>({
      hostname: target.host,
      port: target.port,
      data: state,
      tls: { ca: target.ca, serverName: target.host, rejectUnauthorized: true },
      socket: {
        binaryType: "uint8array",
        open(s) {
          socket = s;
        },
        handshake(s, ok, err) {
          socket = s;
          if (!ok || !s.authorized) {
            fail(`Cannot trust ${where}: ${err?.message ?? s.getAuthorizationError()?.message ?? "certificate rejected"} (pass --ca FILE with the CA that issued it)`);
            return;
          }
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          state.open = true;
          state.events = events;
          resolve(link);
        },
        data(s, chunk) {
          s.data.events?.data(chunk);
        },
        drain(s) {
          flush(s, s.data.queue);
        },
        close(s, err) {
          const wasOpen = s.data.open;
          s.data.open = false;
          fail(`Cannot connect to ${where}: ${err?.message ?? "closed during the TLS handshake"}`);
          if (wasOpen) s.data.events?.closed(err?.message ?? "closed");
        },
        error(_s, err) {
          fail(`Cannot connect to ${where}: ${err.message}`);
        },
        connectError(_s, err) {
          fail(`Cannot connect to ${where}: ${err.message} (is the server up, is the address right?)`);
        },
      },
    }).catch((err: Error) => fail(`Cannot connect to ${where}: ${err.message}`));
  });
}
