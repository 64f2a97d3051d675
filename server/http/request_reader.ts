/**
 * HTTP/1.1 on the atProtocol port, for connections whose TLS handshake selected ALPN `http/1.1` (the reference's
 * docs/http-interface.md). The listener hands such a connection here instead of to the line handler, and it
 * never writes the atProtocol `@` prompt.
 *
 * Per connection: bytes → one bounded request head (request line + headers, latin1) → the caller's `answer` →
 * one response with `Connection: close` → end. Exactly one request per connection: the reference's interface
 * serves single lookups, and closing keeps a stranger's connection short. A request body, or a second request
 * pipelined behind the first, is never read. A head that is not complete within the deadline gets 408.
 */
import { concatBytes } from "../../core/bytes.ts";

/** Protocol name the TLS handshake offers for this interface. */
export const HTTP_ALPN = "http/1.1";

/** Limits of the request head; the deadline comes from the listener (its strangers' line deadline). */
export const HTTP_HEAD_LIMITS = {
  /** Longest request head (request line, headers and the blank line, bytes); beyond it 431, or 400 for the URI. */
  maxHeadBytes: 8 * 1024,
  /** Most header lines in one request; beyond them 431. */
  maxHeaderLines: 64,
  /** Longest request target (characters), the reference's 1000; beyond it 400. */
  maxUriChars: 1000,
  /** Longest method name (characters); longer is 400. */
  maxMethodChars: 16,
};

/** A parsed request head. Header names are lower-cased; a name sent twice keeps its first value. */
export interface HttpRequest {
  method: string;
  target: string;
  headers: Map<string, string>;
}

/** A response to write. A text body is sent as UTF-8. */
export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

/** Status lines of the answers this interface gives. */
const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  505: "HTTP Version Not Supported",
};

/** The outcome of parsing a complete (or oversized) head: a request, or the status to refuse it with. */
export type HeadResult = { request: HttpRequest } | { refuse: number };

/** How a connection sends and ends (the listener's write queue). */
export interface HttpIo {
  write(bytes: Uint8Array): void;
  end(): void;
}

/** Answers one request; a promise when its answerer is loaded on first use (server/index.ts). */
export type HttpAnswer = (req: HttpRequest) => HttpResponse | Promise<HttpResponse>;

/** One HTTP connection's state. */
export interface HttpExchange {
  readonly io: HttpIo;
  readonly answer: HttpAnswer;
  /** The head was complete and handed to `answer`: later bytes are ignored while its answer comes. */
  asked: boolean;
  /** The head read so far (latin1, at most maxHeadBytes + 4 characters). */
  head: string;
  /** The response was written (or the connection is gone): later bytes and the deadline are ignored. */
  done: boolean;
  timer: ReturnType<typeof setTimeout>;
}

const HEAD_END_RE = /\r?\n\r?\n/;
const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const VERSION_RE = /^HTTP\/\d\.\d$/;
const latin1 = new TextDecoder("latin1");
const encoder = new TextEncoder();

/** Starts serving a connection that negotiated HTTP; `deadlineMs` bounds the time to a complete head. */
export function newHttpExchange(io: HttpIo, answer: HttpAnswer, deadlineMs: number): HttpExchange {
  const ex: HttpExchange = { io, answer, asked: false, head: "", done: false, timer: setTimeout(() => respond(ex, { status: 408 }), deadlineMs) };
  ex.timer.unref?.();
  return ex;
}

/** Takes bytes from the socket; answers once the head is complete or over its limit. */
export function httpData(ex: HttpExchange, chunk: Uint8Array): void {
  if (ex.done || ex.asked) return;
  const room = HTTP_HEAD_LIMITS.maxHeadBytes + 4 - ex.head.length;
  ex.head += latin1.decode(chunk.subarray(0, Math.max(0, room)));
  const end = HEAD_END_RE.exec(ex.head);
  if (end === null && ex.head.length <= HTTP_HEAD_LIMITS.maxHeadBytes) return;
  const result = end === null || end.index + end[0].length > HTTP_HEAD_LIMITS.maxHeadBytes ? oversized(ex.head) : parseHead(ex.head.slice(0, end.index));
  if ("refuse" in result) return respond(ex, { status: result.refuse });
  ex.asked = true;
  let response: HttpResponse | Promise<HttpResponse>;
  try {
    response = ex.answer(result.request);
  } catch {
    response = { status: 500 };
  }
  if (response instanceof Promise) void response.then((r) => respond(ex, r), () => respond(ex, { status: 500 }));
  else respond(ex, response);
}

/** Marks the connection gone (no answer is written after this). */
export function httpClosed(ex: HttpExchange): void {
  ex.done = true;
  clearTimeout(ex.timer);
}

/** A head past maxHeadBytes: 400 when its request line (so its URI) is the long part, else 431. */
function oversized(head: string): HeadResult {
  const eol = head.indexOf("\n");
  if (eol < 0) return { refuse: 400 };
  const parsed = parseRequestLine(head.slice(0, eol).replace(/\r$/, ""));
  return "refuse" in parsed ? parsed : { refuse: 431 };
}

/** Parses a complete head (without its blank line). */
export function parseHead(head: string): HeadResult {
  const lines = head.split(/\r?\n/);
  const first = parseRequestLine(lines[0]!);
  if ("refuse" in first) return first;
  if (lines.length - 1 > HTTP_HEAD_LIMITS.maxHeaderLines) return { refuse: 431 };
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    // Obsolete line folding (a line starting with white space) and a name that is not a token are refused.
    if (colon <= 0 || !TOKEN_RE.test(line.slice(0, colon))) return { refuse: 400 };
    const name = line.slice(0, colon).toLowerCase();
    if (name === "host" && headers.has(name)) return { refuse: 400 };
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  // RFC 9112 §3.2: an HTTP/1.1 request without Host is refused.
  if (first.version === "HTTP/1.1" && !headers.has("host")) return { refuse: 400 };
  return { request: { method: first.method, target: first.target, headers } };
}

function parseRequestLine(line: string): { method: string; target: string; version: string } | { refuse: number } {
  const parts = line.split(" ");
  if (parts.length !== 3) return { refuse: 400 };
  const [method, target, version] = parts as [string, string, string];
  if (method.length > HTTP_HEAD_LIMITS.maxMethodChars || !TOKEN_RE.test(method)) return { refuse: 400 };
  if (target.length === 0 || target.length > HTTP_HEAD_LIMITS.maxUriChars) return { refuse: 400 };
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") return { refuse: VERSION_RE.test(version) ? 505 : 400 };
  return { method, target, version };
}

/** Writes the one response of this connection and ends it once flushed. */
function respond(ex: HttpExchange, r: HttpResponse): void {
  if (ex.done) return;
  httpClosed(ex);
  ex.io.write(responseBytes(r));
  ex.io.end();
}

/** The response on the wire: status line, headers, Content-Length, Connection: close, body. */
export function responseBytes(r: HttpResponse): Uint8Array {
  const body = typeof r.body === "string" ? encoder.encode(r.body) : (r.body ?? new Uint8Array(0));
  const head = [`HTTP/1.1 ${r.status} ${REASONS[r.status] ?? ""}`.trimEnd()];
  for (const [name, value] of Object.entries(r.headers ?? {})) head.push(`${name}: ${value}`);
  head.push(`Content-Length: ${body.byteLength}`, "Connection: close");
  return concatBytes([encoder.encode(`${head.join("\r\n")}\r\n\r\n`), body]);
}
