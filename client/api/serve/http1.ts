/**
 * The small HTTP/1.1 codec spoken over a tunnel stream: one request and one response per stream. Bodies are
 * framed with `transfer-encoding: chunked` (or content-length when read), so a stream cut short is an error,
 * never a shorter body. Parsing is bounded (HTTP_HEAD_MAX_BYTES, HTTP_CHUNK_LINE_MAX_BYTES) and refuses
 * ambiguous framing (both content-length and transfer-encoding), the usual request-smuggling shape.
 */
import { envelopeHeaders, MAX_ENVELOPE_HEADERS, MAX_ENVELOPE_PATH_CHARS } from "./envelope.ts";

/** Longest request or response head (start line and headers). */
export const HTTP_HEAD_MAX_BYTES = 64 * 1024;
/** Longest chunk-size or trailer line. */
export const HTTP_CHUNK_LINE_MAX_BYTES = 1024;

const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
const PATH_RE = /^\/[^\s#]*$/;
const CRLF = new Uint8Array([13, 10]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A message that does not follow HTTP/1.1 (the stream is answered 400 or aborted). */
export class HttpFramingError extends Error {
  override name = "HttpFramingError";
}

/** What ByteReader reads from (a ReadableStream's reader). */
export interface ChunkReader {
  read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
  cancel(): Promise<void>;
}

/** Buffered reads from a byte stream. */
export class ByteReader {
  private pending: Uint8Array = new Uint8Array(0);
  private eof = false;
  constructor(private readonly reader: ChunkReader) {}

  /** Reads one more chunk into the buffer; false at the end of the stream. */
  private async more(): Promise<boolean> {
    if (this.eof) return false;
    const { done, value } = await this.reader.read();
    if (done || !value) {
      this.eof = !!done;
      return !done;
    }
    this.pending = this.pending.byteLength ? Buffer.concat([this.pending, value]) : value;
    return true;
  }

  /** True when the stream ended and nothing is buffered. */
  async atEnd(): Promise<boolean> {
    while (this.pending.byteLength === 0) if (!(await this.more())) return true;
    return false;
  }

  /** The next CRLF-terminated line (without it), at most `limit` bytes. */
  async line(limit: number): Promise<string> {
    for (;;) {
      const i = Buffer.from(this.pending.buffer, this.pending.byteOffset, this.pending.byteLength).indexOf(CRLF);
      if (i >= 0) {
        if (i > limit) break;
        const text = decoder.decode(this.pending.subarray(0, i));
        this.pending = this.pending.subarray(i + 2);
        return text;
      }
      if (this.pending.byteLength > limit) break;
      if (!(await this.more())) throw new HttpFramingError("the stream ended inside a message head");
    }
    throw new HttpFramingError(`a line is longer than ${limit} bytes`);
  }

  /** Up to `max` bytes (at least one); throws at the end of the stream. */
  async take(max: number): Promise<Uint8Array> {
    if (this.pending.byteLength === 0 && !(await this.more())) throw new HttpFramingError("the stream ended inside a body");
    const n = Math.min(max, this.pending.byteLength);
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }

  /** Whatever comes next (buffered first), or null at the end. */
  async rest(): Promise<Uint8Array | null> {
    if (await this.atEnd()) return null;
    const out = this.pending;
    this.pending = new Uint8Array(0);
    return out;
  }

  /** Stops reading the underlying stream. */
  cancel(): void {
    this.reader.cancel().catch(() => {});
  }
}

/** A parsed head. `start` is the start line split at spaces (at most 3 parts). */
export interface HttpHead {
  start: [string, string, string];
  headers: [string, string][];
}

/** Reads a head; null when the stream ended before its first byte. */
export async function readHead(r: ByteReader): Promise<HttpHead | null> {
  if (await r.atEnd()) return null;
  let budget = HTTP_HEAD_MAX_BYTES;
  const first = await r.line(budget);
  budget -= first.length + 2;
  const m = /^(\S+) (\S+) ?(.*)$/.exec(first);
  if (!m) throw new HttpFramingError("malformed start line");
  const headers: [string, string][] = [];
  for (;;) {
    const line = await r.line(Math.max(0, budget));
    budget -= line.length + 2;
    if (budget < 0) throw new HttpFramingError(`head larger than ${HTTP_HEAD_MAX_BYTES} bytes`);
    if (line === "") break;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    if (colon <= 0 || !TOKEN_RE.test(name)) throw new HttpFramingError("malformed header line");
    if (headers.length >= MAX_ENVELOPE_HEADERS + 4) throw new HttpFramingError(`more than ${MAX_ENVELOPE_HEADERS} headers`);
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  return { start: [m[1]!, m[2]!, m[3]!], headers };
}

/** A request head's method and path, checked like the notification envelope's. */
export function requestLine(head: HttpHead): { method: string; path: string } {
  const [method, path, version] = head.start;
  if (version !== "HTTP/1.1") throw new HttpFramingError(`unsupported version ${version.slice(0, 20)}`);
  if (!/^[A-Z]{1,16}$/.test(method)) throw new HttpFramingError("malformed method");
  if (path.length > MAX_ENVELOPE_PATH_CHARS || !PATH_RE.test(path)) throw new HttpFramingError("a path starts with / and holds no whitespace or #");
  return { method, path };
}

/** A response head's status. */
export function statusLine(head: HttpHead): number {
  const status = Number(head.start[1]);
  if (head.start[0] !== "HTTP/1.1" || !Number.isInteger(status) || status < 200 || status > 599) throw new HttpFramingError("malformed status line");
  return status;
}

/** How the body after `head` is delimited. */
export type Framing = { kind: "none" } | { kind: "length"; n: number } | { kind: "chunked" } | { kind: "close" };

/** The body framing of a message; `untilClose` is what a response with neither header means. */
export function framingOf(headers: [string, string][], untilClose: boolean): Framing {
  const te = headers.filter(([k]) => k === "transfer-encoding");
  const cl = headers.filter(([k]) => k === "content-length");
  if (te.length && cl.length) throw new HttpFramingError("both transfer-encoding and content-length");
  if (te.length) {
    if (te.length > 1 || te[0]![1].toLowerCase() !== "chunked") throw new HttpFramingError("only transfer-encoding: chunked is understood");
    return { kind: "chunked" };
  }
  if (cl.length) {
    if (cl.length > 1 || !/^\d{1,15}$/.test(cl[0]![1])) throw new HttpFramingError("malformed content-length");
    return { kind: "length", n: Number(cl[0]![1]) };
  }
  return untilClose ? { kind: "close" } : { kind: "none" };
}

/** The body as a pull stream (nothing is read ahead of the consumer); null when there is none. */
export function bodyStream(r: ByteReader, framing: Framing): ReadableStream<Uint8Array> | null {
  if (framing.kind === "none" || (framing.kind === "length" && framing.n === 0)) return null;
  let left = framing.kind === "length" ? framing.n : 0;
  let inChunk = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        try {
          if (framing.kind === "close") {
            const bytes = await r.rest();
            return bytes ? c.enqueue(bytes) : c.close();
          }
          if (framing.kind === "length") {
            const bytes = await r.take(left);
            left -= bytes.byteLength;
            c.enqueue(bytes);
            if (left === 0) c.close();
            return;
          }
          if (!inChunk) {
            const size = /^([0-9a-fA-F]{1,12})(;.*)?$/.exec(await r.line(HTTP_CHUNK_LINE_MAX_BYTES));
            if (!size) throw new HttpFramingError("malformed chunk size");
            left = parseInt(size[1]!, 16);
            if (left === 0) {
              while ((await r.line(HTTP_CHUNK_LINE_MAX_BYTES)) !== "") {} // trailers are not carried
              return c.close();
            }
            inChunk = true;
          }
          const bytes = await r.take(left);
          left -= bytes.byteLength;
          if (left === 0) {
            if ((await r.line(0)) !== "") throw new HttpFramingError("chunk not followed by CRLF");
            inChunk = false;
          }
          c.enqueue(bytes);
        } catch (e) {
          r.cancel();
          c.error(e);
        }
      },
      cancel() {
        r.cancel();
      },
    },
    { highWaterMark: 0 },
  );
}

/** A head as bytes: the start line, `headers` without hop-by-hop ones, then `framing` headers. */
export function encodeHead(start: string, headers: Headers | [string, string][], framing: [string, string][]): Uint8Array {
  const carried = Array.isArray(headers) ? headers : envelopeHeaders(headers);
  let text = `${start}\r\n`;
  for (const [k, v] of [...carried, ...framing]) {
    if (/[\r\n\0]/.test(v)) throw new HttpFramingError(`header ${k} holds a line break`);
    text += `${k}: ${v}\r\n`;
  }
  return encoder.encode(`${text}\r\n`);
}

/** One chunk of a chunked body (a copy with its size line and CRLF). */
export function chunkFrame(bytes: Uint8Array): Uint8Array {
  const size = encoder.encode(`${bytes.byteLength.toString(16)}\r\n`);
  const out = new Uint8Array(size.byteLength + bytes.byteLength + 2);
  out.set(size, 0);
  out.set(bytes, size.byteLength);
  out.set(CRLF, size.byteLength + bytes.byteLength);
  return out;
}

/** The last chunk of a chunked body. */
export const LAST_CHUNK = encoder.encode("0\r\n\r\n");

/**
 * Sends `body` chunked through `write` (which waits while the stream pushes back), then the last chunk.
 * Stops reading `body` if a write fails.
 */
export async function writeChunked(body: ReadableStream<Uint8Array>, write: (bytes: Uint8Array) => Promise<void>): Promise<void> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.byteLength) await write(chunkFrame(value));
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    throw e;
  }
  await write(LAST_CHUNK);
}
