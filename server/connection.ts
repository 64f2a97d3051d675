/**
 * What the server knows about one inbound connection: who it is authenticated as, the pending `from:`
 * challenge, and the counters the limits need. Verb handlers read and change this; the listener owns the socket.
 */
import type { X509Certificate } from "node:crypto";
import type { NamespaceGrants } from "../core/keys/index.ts";
import type { AuthState } from "../core/wire/index.ts";
import { UNAUTHENTICATED } from "../core/wire/index.ts";

/** A `from:` challenge waiting for `cram:`/`pkam:`. */
export interface Challenge {
  /** The text after `data:` that the client digests or signs. */
  text: string;
  issuedAt: number;
}

/** How the owner authenticated (the reference records this; APKAM comes with enrollments). */
export type AuthMethod = "cram" | "pkam";

/** One inbound connection. */
export interface Connection {
  readonly id: number;
  /** Remote IP address (the per-address limits key on it). */
  readonly address: string;
  state: AuthState;
  authMethod?: AuthMethod;
  /** Set when the owner authenticated with `pkam:...:enrollmentId:<id>` (APKAM); limits it to its grants. */
  enrollmentId?: string;
  /** That enrollment's namespace grants, refreshed before every command (server/enroll/grants.ts). */
  grants?: NamespaceGrants;
  /** `version` from `from:...:clientConfig:{...}`; decides the error form. */
  clientVersion?: string;
  /** `_<uuid>`, fixed for the connection's life like the reference's session id. */
  readonly sessionId: string;
  challenge?: Challenge;
  authFailures: number;
  /** When the connection was accepted (stats:17). */
  readonly openedAt: number;
  /** Last time a line arrived (idle timeouts). */
  lastActivityAt: number;
  closed: boolean;
  /** Writes raw text (payload and prompt already joined); one call is one socket write attempt. */
  write(text: string): void;
  /** Closes the socket after queued bytes are flushed. */
  close(): void;
  /** The client certificate presented in the TLS handshake (server-to-server `from:` checks its names). */
  peerCertificate(): X509Certificate | undefined;
  /** Whether that certificate chains to a CA the listener trusts. */
  peerAuthorized(): boolean;
  /** Outgoing bytes not yet taken by the kernel (monitors bound their backlog with it). */
  queuedBytes(): number;
  /** Closes the socket now, dropping queued bytes (a monitor that does not read its notifications). */
  abort(): void;
}

/** Socket-level facts and actions a connection needs; the listener provides them. */
export interface ConnectionIo {
  write(text: string): void;
  close(): void;
  peerCertificate?(): X509Certificate | undefined;
  peerAuthorized?(): boolean;
  queuedBytes?(): number;
  abort?(): void;
}

let nextId = 1;

/** Builds the connection record; `io` connects it to the socket. */
export function newConnection(address: string, io: ConnectionIo): Connection {
  return {
    id: nextId++,
    address,
    state: UNAUTHENTICATED,
    sessionId: "_" + crypto.randomUUID(),
    authFailures: 0,
    openedAt: Date.now(),
    lastActivityAt: Date.now(),
    closed: false,
    write: io.write,
    close: io.close,
    peerCertificate: () => io.peerCertificate?.(),
    peerAuthorized: () => io.peerAuthorized?.() ?? false,
    queuedBytes: () => io.queuedBytes?.() ?? 0,
    abort: () => (io.abort ?? io.close)(),
  };
}
