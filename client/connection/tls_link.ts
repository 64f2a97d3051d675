/**
 * One client TLS socket for the SDK, on core/net/transport.ts (Bun or Deno): writes go through its bounded,
 * partial-write-safe queue, the promise resolves only after the handshake and the certificate and host name
 * checks, and a deadline covers connect + handshake. Connect failures become AtNetworkError with advice.
 */
import { connectTlsTransport, TransportError } from "../../core/net/transport.ts";
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

/**
 * Connects and completes the TLS handshake with the host name check, within `timeoutMs`.
 * Throws AtNetworkError naming the address and what to fix.
 */
export async function connectTls(target: TlsTarget, events: LinkEvents, timeoutMs: number): Promise<TlsLink> {
  const where = `${target.host}:${target.port}`;
  const t = await connectTlsTransport(target, events, { timeoutMs, writeLimitBytes: CLIENT_WRITE_QUEUE_LIMIT_BYTES }).catch((e: unknown) => {
    throw connectError(where, timeoutMs, e);
  });
  return {
    write(text) {
      const r = t.write(text);
      if (r === "closed" || r === "overflow") {
        t.close();
        return false;
      }
      return true;
    },
    close() {
      t.close();
    },
    get isOpen() {
      return t.isOpen;
    },
  };
}

function connectError(where: string, timeoutMs: number, e: unknown): AtNetworkError {
  const detail = e instanceof Error ? e.message : String(e);
  if (!(e instanceof TransportError)) return new AtNetworkError(`Cannot connect to ${where}: ${detail}`);
  switch (e.kind) {
    case "timeout":
      return new AtNetworkError(`Cannot connect to ${where}: no TLS session within ${timeoutMs} ms (is the server up?)`, "AT0023");
    case "untrusted":
      return new AtNetworkError(`Cannot trust ${where}: ${detail} (pass --ca FILE with the CA that issued it)`);
    case "unreachable":
      return new AtNetworkError(`Cannot connect to ${where}: ${detail} (is the server up, is the address right?)`);
    case "failed":
      return new AtNetworkError(`Cannot connect to ${where}: ${detail}`);
  }
}
