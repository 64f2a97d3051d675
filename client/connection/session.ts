/**
 * The one connection a client keeps to an atServer: opened lazily, authenticated with the client's
 * Authenticator, shared by all requests (pipelined in order by AtConnection), re-opened with backoff after it
 * drops. A request that was cut off by a dropped connection is sent once more on the new connection: every
 * command the SDK sends (update, delete, lookups, scan) has the same effect when repeated.
 */
import type { Authenticator } from "../auth/authenticate.ts";
import { AtClientError, AtNetworkError, errorFromServer } from "../errors.ts";
import { AtConnection, CONNECT_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from "./at_connection.ts";
import type { AtResponse } from "./parse_response.ts";
import type { HostPort, RootResolver } from "./root_lookup.ts";

/** Delays between connect attempts; their count bounds the attempts. */
export const RECONNECT_BACKOFF_MS = [0, 100, 250, 500] as const;

/** Everything a session needs. */
export interface SessionOptions {
  /** The @sign whose atServer to talk to. */
  atSign: string;
  resolver: RootResolver;
  ca: string[];
  /** Runs on every new connection; absent = unauthenticated session (public lookups). */
  authenticate?: Authenticator;
  /** Skip the directory and use this address (tests, `proxy:` style setups). */
  address?: HostPort;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** A lazily connected, self-healing connection to one atServer. */
export class Session {
  private conn: AtConnection | null = null;
  private connecting: Promise<AtConnection> | null = null;
  private closed = false;

  constructor(private readonly opts: SessionOptions) {}

  /** Sends a command; resolves with the raw typed response (errors included). */
  async raw(line: string): Promise<AtResponse> {
    const timeout = this.opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    const conn = await this.connection();
    try {
      return await conn.request(line, timeout);
    } catch (e) {
      // Only a connection that closed under the request earns a retry; a timeout means the server is stuck.
      if (!(e instanceof AtNetworkError) || e.code !== "AT0021" || this.closed) throw e;
      return (await this.connection()).request(line, timeout);
    }
  }

  /**
   * Sends a command and returns the payload after `data:`; an `error:` reply becomes the typed error.
   * @example await session.send("llookup:phone@alice")
   */
  async send(line: string): Promise<string> {
    const r = await this.raw(line);
    if (!r.ok) throw errorFromServer(r.code, r.description, line);
    return r.data;
  }

  /** Closes the connection (`@exit`); later requests fail. */
  close(): void {
    this.closed = true;
    this.conn?.close();
    this.conn = null;
  }

  /** The open connection, connecting and authenticating when there is none. */
  connection(): Promise<AtConnection> {
    if (this.closed) return Promise.reject(new AtNetworkError(`Client for ${this.opts.atSign} is closed`));
    if (this.conn?.isOpen) return Promise.resolve(this.conn);
    this.connecting ??= this.connectWithBackoff().finally(() => (this.connecting = null));
    return this.connecting;
  }

  private async connectWithBackoff(): Promise<AtConnection> {
    let last: unknown;
    for (const delay of RECONNECT_BACKOFF_MS) {
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      if (this.closed) break;
      try {
        const conn = await this.connectOnce();
        this.conn = conn;
        conn.onClose = () => {
          if (this.conn === conn) this.conn = null;
        };
        return conn;
      } catch (e) {
        last = e;
        // Authentication and directory "not registered" answers will not change by retrying.
        if (!(e instanceof AtNetworkError) || e.code === "AT0007") throw e;
        if (!this.opts.address) this.opts.resolver.forget(this.opts.atSign);
      }
    }
    throw last instanceof AtClientError ? last : new AtNetworkError(`Cannot reach the atServer of ${this.opts.atSign}`, "AT0021", { cause: last });
  }

  private async connectOnce(): Promise<AtConnection> {
    const address = this.opts.address ?? (await this.opts.resolver.resolve(this.opts.atSign));
    const conn = await AtConnection.open({ ...address, ca: this.opts.ca }, this.opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    try {
      await this.opts.authenticate?.(conn);
    } catch (e) {
      conn.close();
      throw e;
    }
    return conn;
  }
}
