/**
 * Tunnel records: AES-256-GCM (node:crypto, i.e. OpenSSL/BoringSSL with AES-NI) over a byte stream.
 *
 *   record = u32 BE header | ciphertext (n bytes) | 16-byte tag
 *   header = bit 31: END (the last record of this direction) | bits 0-30: n ≤ TUNNEL_RECORD_MAX_PLAINTEXT_BYTES
 *   nonce  = 4 zero bytes | u64 BE record number in this direction (0, 1, 2, …; never sent)
 *   AAD    = the 4 header bytes
 *
 * One key per direction and per stream (handshake.ts), so a (key, nonce) pair is never reused. The record
 * number is implicit: a replayed, reordered, dropped or modified record fails the tag, and a stream that ends
 * without an authenticated END record is truncated — each is a TunnelError that closes the stream.
 *
 * Hot path: `seal` turns one input chunk into one output buffer holding all its records (one allocation per
 * chunk plus what node:crypto returns); `open` decrypts records in place from the incoming chunk and copies
 * only a record that spans two chunks into a fixed per-stream buffer.
 */
import { type KeyObject, createCipheriv, createDecipheriv, createSecretKey } from "node:crypto";
import { TunnelError } from "./tunnel_error.ts";

/** Largest record on the wire, header and tag included (bulk throughput peaks around 64 KiB records). */
export const TUNNEL_RECORD_MAX_BYTES = 64 * 1024;
/** Header bytes of a record. */
export const TUNNEL_RECORD_HEADER_BYTES = 4;
/** GCM tag bytes of a record. */
export const TUNNEL_RECORD_TAG_BYTES = 16;
/** Most plaintext in one record. */
export const TUNNEL_RECORD_MAX_PLAINTEXT_BYTES = TUNNEL_RECORD_MAX_BYTES - TUNNEL_RECORD_HEADER_BYTES - TUNNEL_RECORD_TAG_BYTES;
/** Size of a tunnel key. */
export const TUNNEL_KEY_BYTES = 32;

const END_FLAG = 0x8000_0000;
const NONCE_BYTES = 12;
const ALGO = "aes-256-gcm";

/** Encrypting state of one direction of one stream. */
export interface TunnelSealer {
  key: KeyObject;
  /** Next record number. */
  counter: number;
  nonce: Uint8Array;
  ended: boolean;
}

/** Decrypting state of one direction of one stream. */
export interface TunnelOpener {
  key: KeyObject;
  counter: number;
  nonce: Uint8Array;
  /** A record that spans chunks is gathered here. */
  partial: Uint8Array;
  partialBytes: number;
  ended: boolean;
}

/** A sealer for `key` (32 bytes from handshake.ts). */
export function newSealer(key: Uint8Array): TunnelSealer {
  return { key: secretKey(key), counter: 0, nonce: new Uint8Array(NONCE_BYTES), ended: false };
}

/** An opener for `key`. */
export function newOpener(key: Uint8Array): TunnelOpener {
  return { key: secretKey(key), counter: 0, nonce: new Uint8Array(NONCE_BYTES), partial: new Uint8Array(TUNNEL_RECORD_MAX_BYTES), partialBytes: 0, ended: false };
}

/**
 * Encrypts `plaintext` into as many records as it needs, returned in one buffer. With `end`, the last record
 * carries END and the sealer refuses further input (an empty `plaintext` with `end` makes a bare END record).
 * @example socket.write(seal(sealer, chunk)); … socket.write(seal(sealer, new Uint8Array(0), true));
 */
export function seal(s: TunnelSealer, plaintext: Uint8Array, end = false): Uint8Array {
  if (plaintext.byteLength === 0 && !end) return new Uint8Array(0);
  return sealRecords(s, plaintext, end);
}

/**
 * One empty record (not END): traffic for a direction that has nothing to say, so the relay, which closes
 * pairs idle for its idle timeout, and NATs on the way keep an idle stream (an ssh session left open) alive.
 * The opener takes it like any record (its number advances) and emits nothing.
 */
export function sealKeepalive(s: TunnelSealer): Uint8Array {
  return sealRecords(s, new Uint8Array(0), false);
}

function sealRecords(s: TunnelSealer, plaintext: Uint8Array, end: boolean): Uint8Array {
  if (s.ended) throw new TunnelError("malformed", "Cannot seal: the stream has ended");
  const n = plaintext.byteLength;
  const records = Math.max(1, Math.ceil(n / TUNNEL_RECORD_MAX_PLAINTEXT_BYTES));
  const out = new Uint8Array(n + records * (TUNNEL_RECORD_HEADER_BYTES + TUNNEL_RECORD_TAG_BYTES));
  const view = new DataView(out.buffer);
  let o = 0;
  for (let r = 0, p = 0; r < records; r++) {
    const len = Math.min(TUNNEL_RECORD_MAX_PLAINTEXT_BYTES, n - p);
    const last = r === records - 1;
    view.setUint32(o, (last && end ? END_FLAG : 0) | len);
    const header = out.subarray(o, o + TUNNEL_RECORD_HEADER_BYTES);
    const cipher = createCipheriv(ALGO, s.key, nextNonce(s), { authTagLength: TUNNEL_RECORD_TAG_BYTES });
    cipher.setAAD(header);
    out.set(cipher.update(plaintext.subarray(p, p + len)), o + TUNNEL_RECORD_HEADER_BYTES);
    cipher.final();
    out.set(cipher.getAuthTag(), o + TUNNEL_RECORD_HEADER_BYTES + len);
    o += TUNNEL_RECORD_HEADER_BYTES + len + TUNNEL_RECORD_TAG_BYTES;
    p += len;
  }
  if (end) s.ended = true;
  return out;
}

/**
 * Decrypts the records in `chunk`, calling `emit` with each record's plaintext in order (only after its tag
 * checked out). Returns true once the END record has been opened. Throws TunnelError on any bad record.
 */
export function open(o: TunnelOpener, chunk: Uint8Array, emit: (plaintext: Uint8Array) => void): boolean {
  let i = 0;
  while (i < chunk.byteLength) {
    if (o.ended) throw new TunnelError("malformed", "Cannot open: bytes after the end of the stream");
    if (o.partialBytes > 0 || chunk.byteLength - i < TUNNEL_RECORD_HEADER_BYTES) {
      i += gather(o, chunk, i);
      const size = o.partialBytes >= TUNNEL_RECORD_HEADER_BYTES ? recordSize(o.partial, 0) : 0;
      if (size === 0 || o.partialBytes < size) continue;
      o.partialBytes = 0;
      openRecord(o, o.partial.subarray(0, size), emit);
      continue;
    }
    const size = recordSize(chunk, i);
    if (chunk.byteLength - i < size) {
      i += gather(o, chunk, i);
      continue;
    }
    openRecord(o, chunk.subarray(i, i + size), emit);
    i += size;
  }
  return o.ended;
}

/** Call at EOF of the byte stream: throws TunnelError("truncated") unless the END record arrived. */
export function finishOpener(o: TunnelOpener): void {
  if (!o.ended || o.partialBytes > 0) throw new TunnelError("truncated", "Cannot open: the stream ended without its end record");
}

/** Copies as much of the current record as `chunk` has into `partial`; returns the bytes taken. */
function gather(o: TunnelOpener, chunk: Uint8Array, from: number): number {
  const want = o.partialBytes >= TUNNEL_RECORD_HEADER_BYTES ? recordSize(o.partial, 0) : TUNNEL_RECORD_HEADER_BYTES;
  const take = Math.min(want - o.partialBytes, chunk.byteLength - from);
  o.partial.set(chunk.subarray(from, from + take), o.partialBytes);
  o.partialBytes += take;
  return take;
}

function recordSize(buf: Uint8Array, at: number): number {
  const len = (((buf[at]! & 0x7f) << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
  if (len > TUNNEL_RECORD_MAX_PLAINTEXT_BYTES) throw new TunnelError("malformed", `Cannot open: record of ${len} bytes exceeds ${TUNNEL_RECORD_MAX_PLAINTEXT_BYTES}`);
  return TUNNEL_RECORD_HEADER_BYTES + len + TUNNEL_RECORD_TAG_BYTES;
}

function openRecord(o: TunnelOpener, record: Uint8Array, emit: (plaintext: Uint8Array) => void): void {
  const header = record.subarray(0, TUNNEL_RECORD_HEADER_BYTES);
  const tagAt = record.byteLength - TUNNEL_RECORD_TAG_BYTES;
  const decipher = createDecipheriv(ALGO, o.key, nextNonce(o), { authTagLength: TUNNEL_RECORD_TAG_BYTES });
  decipher.setAAD(header);
  decipher.setAuthTag(record.subarray(tagAt));
  const plaintext = decipher.update(record.subarray(TUNNEL_RECORD_HEADER_BYTES, tagAt));
  try {
    decipher.final();
  } catch {
    throw new TunnelError("tampered", `Cannot open record ${o.counter - 1}: authentication failed`);
  }
  if ((header[0]! & 0x80) !== 0) o.ended = true;
  if (plaintext.byteLength > 0) emit(plaintext);
}

/** Writes the record number into the nonce and advances it. */
function nextNonce(s: { counter: number; nonce: Uint8Array }): Uint8Array {
  const c = s.counter++;
  // 2^53 records of ≥ 20 bytes is far beyond any stream; the high word still carries the top bits.
  const view = new DataView(s.nonce.buffer);
  view.setUint32(4, Math.floor(c / 0x1_0000_0000));
  view.setUint32(8, c >>> 0);
  return s.nonce;
}

function secretKey(key: Uint8Array): KeyObject {
  if (key.byteLength !== TUNNEL_KEY_BYTES) throw new RangeError(`Cannot use tunnel key: expected ${TUNNEL_KEY_BYTES} bytes, got ${key.byteLength}`);
  return createSecretKey(key);
}
