/**
 * One TLS connection to an atServer: waits for the first `@` prompt, then carries requests pipelined in
 * order. Responses are matched to requests by position (the server answers strictly in order), so a request
 * that times out leaves the stream misaligned: the connection is closed and everything still waiting fails.
 */
import { LineTooLongError, newLineBuffer, pushChunk } from "../../core/net/line_buffer.ts";
import { MAX_REQUEST_BYTES } from "../../core/wire/limits.ts";
import { AtNetworkError, AtUsageError } from "../errors.ts";
import { parseResponse, stripPrompt, type AtResponse } from "./parse_response.ts";
import { connectTls, type TlsLink, type TlsTarget } from "./tls_link.ts";

/** Largest response line we accept; the reference client's read buffer has the same size. */
export const MAX_RESPONSE_BYTES = MAX_REQUEST_BYTES;
/** Requests written but not yet answered; more wait in the queue below. */
export const MAX_IN_FLIGHT_REQUESTS = 32;
/** Requests waiting to be written; beyond this `request` refuses at once instead of growing memory. */
export const MAX_QUEUED_REQUESTS = 4096;
/** Default deadline for connect + TLS handshake + first prompt. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Default deadline for one response once its request was written. */
export const REQUEST_TIMEOUT_MS = 30_000;

interface Pending {
  line: string;
  timeoutMs: number;
  resolve(r: AtResponse): void;
  reject(e: Error): void;
  timer?: ReturnType<typeof setTimeout>;
}

/** A connection to one atServer (or any server speaking the atProtocol framing). */
export class AtConnection {
  private link: TlsLink | null = null;
  private readonly lines = newLineBuffer(MAX_RESPONSE_BYTES);
  private readonly inFlight: Pending[] = [];
  private readonly waiting: Pending[] = [];
  private closedReason: string | null = null;
  private greeting: { resolve(): void; reject(e: Error): void } | null = null;
  /** Called once when the connection ends, for whatever reason. */
  onClose: ((reason: string) => void) | null = null;

  private constructor(readonly where: string) {}

  /** Connects, checks the certificate, and waits for the server's first `@`. */
  static async open(target: TlsTarget, timeoutMs = CONNECT_TIMEOUT_MS): Promise<AtConnection> {
    const conn = new AtConnection(`${target.host}:${target.port}`);
    const deadline = Date.now() + timeoutMs;
    const greeting = new Promise<void>((resolve, reject) => (conn.greeting = { resolve, reject }));
    conn.link = await connectTls(target, { data: (c) => conn.onData(c), closed: (r) => conn.shutDown(r) }, timeoutMs);
    const timer = setTimeout(() => conn.shutDown(`no "@" prompt within ${timeoutMs} ms (is it an atServer?)`, true), Math.max(0, deadline - Date.now()));
    try {
      await greeting;
    } finally {
      clearTimeout(timer);
    }
    return conn;
  }

  /** True until the connection closed. */
  get isOpen(): boolean {
    return this.closedReason === null && (this.link?.isOpen ?? false);
  }

  /**
   * Sends one command line (without `\n`) and resolves with the parsed response. Rejects with
   * AtNetworkError when the connection closes or the response does not come within `timeoutMs`.
   */
  request(line: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<AtResponse> {
    if (line.includes("\n")) return Promise.reject(new AtUsageError("A command cannot contain a newline"));
    if (!this.isOpen) return Promise.reject(this.closedError());
    if (this.waiting.length >= MAX_QUEUED_REQUESTS) {
      return Promise.reject(new AtNetworkError(`Cannot queue more than ${MAX_QUEUED_REQUESTS} requests to ${this.where}; wait for replies first`, "AT0006"));
    }
    return new Promise<AtResponse>((resolve, reject) => {
      this.waiting.push({ line, timeoutMs, resolve, reject });
      this.pump();
    });
  }

  /** Says `@exit` and closes; pending requests fail. */
  close(): void {
    if (!this.isOpen) return;
    this.link?.write("@exit\n");
    this.shutDown("closed by the client");
  }

  private pump(): void {
    while (this.inFlight.length < MAX_IN_FLIGHT_REQUESTS && this.waiting.length > 0 && this.isOpen) {
      const p = this.waiting.shift()!;
      this.inFlight.push(p);
      p.timer = setTimeout(() => this.shutDown(`no response within ${p.timeoutMs} ms`, true), p.timeoutMs);
      if (!this.link!.write(p.line + "\n")) this.shutDown("write failed");
    }
  }

  private onData(chunk: Uint8Array): void {
    if (this.greeting) {
      this.greeting.resolve();
      this.greeting = null;
    }
    let lines: string[];
    try {
      lines = pushChunk(this.lines, chunk);
    } catch (e) {
      if (!(e instanceof LineTooLongError)) throw e;
      this.shutDown(`response longer than ${MAX_RESPONSE_BYTES} bytes`);
      return;
    }
    for (const raw of lines) {
      const text = stripPrompt(raw);
      if (text === "") continue;
      const response = parseResponse(text);
      const p = this.inFlight.shift();
      if (!p || !response) {
        this.shutDown(p ? `unexpected response "${text.slice(0, 40)}"` : "response without a request");
        p?.reject(this.closedError());
        return;
      }
      clearTimeout(p.timer);
      p.resolve(response);
    }
    this.pump();
  }

  private closedError(timedOut = false): AtNetworkError {
    return new AtNetworkError(`Connection to ${this.where} lost: ${this.closedReason ?? "closed"}`, timedOut ? "AT0023" : "AT0021");
  }

  private shutDown(reason: string, timedOut = false): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.link?.close();
    const err = this.closedError(timedOut);
    this.greeting?.reject(err);
    this.greeting = null;
    for (const p of this.inFlight.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    for (const p of this.waiting.splice(0)) p.reject(err);
    this.onClose?.(reason);
  }
}
