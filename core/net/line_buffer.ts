/**
 * Splits a byte stream into `\n`-terminated lines with a hard bound on a line's size.
 *
 * Chunks arrive at arbitrary boundaries (TLS records, TCP segments); a line may span many chunks. Bytes are
 * decoded as UTF-8 only once a whole line is present, so a multi-byte character split across chunks is safe.
 */
import { concatBytes } from "../bytes.ts";

export interface LineBuffer {
  parts: Uint8Array[];
  bytes: number;
  readonly maxLineBytes: number;
}

export function newLineBuffer(maxLineBytes: number): LineBuffer {
  return { parts: [], bytes: 0, maxLineBytes };
}

const decoder = new TextDecoder();

/** Thrown when a line grows past the buffer's bound; the caller answers with its protocol's error and closes. */
export class LineTooLongError extends RangeError {
  override name = "LineTooLongError";
}

/**
 * Feeds a chunk and returns the complete lines it finished (without the `\n`; a trailing `\r` is kept for the
 * caller's trim). Throws LineTooLongError when the pending line exceeds the bound.
 */
export function pushChunk(buf: LineBuffer, chunk: Uint8Array): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, start)) {
    const piece = chunk.subarray(start, i);
    if (buf.bytes + piece.byteLength > buf.maxLineBytes) throw tooLong(buf);
    lines.push(buf.parts.length === 0 ? decoder.decode(piece) : decoder.decode(concatBytes([...buf.parts, piece])));
    buf.parts = [];
    buf.bytes = 0;
    start = i + 1;
  }
  if (start < chunk.byteLength) {
    const rest = chunk.subarray(start);
    if (buf.bytes + rest.byteLength > buf.maxLineBytes) throw tooLong(buf);
    buf.parts.push(rest);
    buf.bytes += rest.byteLength;
  }
  return lines;
}

function tooLong(buf: LineBuffer): LineTooLongError {
  buf.parts = [];
  buf.bytes = 0;
  return new LineTooLongError(`Cannot accept line: longer than ${buf.maxLineBytes} bytes`);
}
