/**
 * Binary macaroon formats of libmacaroons, as go-macaroon reads and writes them.
 *
 * v2 (what we mint): version byte 0x02, then packets `type(varint) length(varint) data`, sections ended by
 * an EOS packet (a single 0x00):
 *
 *   0x02 | location? identifier EOS | ( location? identifier vid? EOS )* | EOS | signature
 *
 * Field types: EOS 0, location 1, identifier 2, verification id 4, signature 6. Within a section types
 * strictly increase; a first-party caveat carries no location; the signature is 32 bytes.
 *
 * v1 (read and written for old peers): packets `hhhh` (4 lowercase hex digits: total packet length, header
 * and trailing newline included) then `name SP value LF`, in the order
 * location, identifier, (cid, vid?, cl?)*, signature.
 */
import { HASH_BYTES } from "./_crypto.ts";
import { MAX_CAVEATS, MAX_FIELD_BYTES, MAX_MACAROON_BYTES, MAX_V1_PACKET_BYTES } from "./limits.ts";
import type { Caveat, Macaroon } from "./macaroon.ts";
import { MacaroonError } from "./macaroon_error.ts";

const Field = { eos: 0, location: 1, identifier: 2, vid: 4, signature: 6 } as const;
const V2 = 2;
/** A length above 2^28 needs a fifth varint byte; our fields never come close, so four bytes is the cap. */
const MAX_VARINT_BYTES = 4;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes `m` in the v2 binary format, byte-for-byte as go-macaroon's MarshalBinary does.
 * @example const b64 = encodeBase64Std(encodeBinaryV2(m));
 */
export function encodeBinaryV2(m: Macaroon): Uint8Array {
  const out: number[] = [V2];
  if (m.location) packet(out, Field.location, encoder.encode(m.location));
  packet(out, Field.identifier, m.identifier);
  out.push(Field.eos);
  for (const c of m.caveats) {
    if (c.location) packet(out, Field.location, encoder.encode(c.location));
    packet(out, Field.identifier, c.id);
    if (c.verificationId?.length) packet(out, Field.vid, c.verificationId);
    out.push(Field.eos);
  }
  out.push(Field.eos);
  packet(out, Field.signature, m.signature);
  return Uint8Array.from(out);
}

function packet(out: number[], type: number, data: Uint8Array): void {
  out.push(type);
  for (let n = data.length; ; n >>>= 7) {
    if (n < 0x80) {
      out.push(n);
      break;
    }
    out.push((n & 0x7f) | 0x80);
  }
  for (const b of data) out.push(b);
}

/**
 * Decodes one macaroon in v1 or v2 binary format; trailing bytes are an error.
 * @example const m = decodeBinary(decodeBase64Tolerant(text, "macaroon"));
 */
export function decodeBinary(data: Uint8Array): Macaroon {
  const [m, rest] = decodeOne(data);
  if (rest.length > 0) throw new MacaroonError("malformed", `Cannot decode macaroon: ${rest.length} bytes after its end`);
  return m;
}

/**
 * Decodes a concatenation of binary macaroons (go-macaroon's Slice: a root followed by its discharges).
 * Each may be in either version.
 */
export function decodeBinaryAll(data: Uint8Array, maxCount: number): Macaroon[] {
  if (data.length === 0) throw new MacaroonError("malformed", "Cannot decode macaroons: no data");
  const out: Macaroon[] = [];
  let rest = data;
  while (rest.length > 0) {
    if (out.length >= maxCount) throw new MacaroonError("too_large", `Cannot decode macaroons: more than ${maxCount}`);
    const [m, next] = decodeOne(rest);
    out.push(m);
    rest = next;
  }
  return out;
}

function decodeOne(data: Uint8Array): [Macaroon, Uint8Array] {
  if (data.length === 0) throw new MacaroonError("malformed", "Cannot decode macaroon: no data");
  if (data.length > MAX_MACAROON_BYTES) throw new MacaroonError("too_large", `Cannot decode macaroon: ${data.length} bytes, at most ${MAX_MACAROON_BYTES}`);
  const first = data[0]!;
  if (first === V2) return decodeV2(data);
  if (isLowerHex(first)) return decodeV1(data);
  throw new MacaroonError("unsupported_version", `Cannot decode macaroon: unknown format byte 0x${first.toString(16).padStart(2, "0")}`);
}

class Reader {
  pos = 0;
  constructor(readonly data: Uint8Array) {}
  varint(): number {
    let value = 0;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.data[this.pos++];
      if (b === undefined) throw new MacaroonError("malformed", "Cannot decode macaroon: varint runs past the end");
      value |= (b & 0x7f) << (7 * i);
      if (b < 0x80) return value;
    }
    throw new MacaroonError("too_large", "Cannot decode macaroon: varint too long");
  }
  packet(): { type: number; data: Uint8Array } {
    const type = this.varint();
    if (type === Field.eos) return { type, data: new Uint8Array(0) };
    const len = this.varint();
    if (len > MAX_FIELD_BYTES) throw new MacaroonError("too_large", `Cannot decode macaroon: field of ${len} bytes, at most ${MAX_FIELD_BYTES}`);
    if (this.pos + len > this.data.length) throw new MacaroonError("malformed", "Cannot decode macaroon: field runs past the end");
    const out = this.data.slice(this.pos, this.pos + len);
    this.pos += len;
    return { type, data: out };
  }
  /** Packets up to the next EOS, checking that field types strictly increase (as libmacaroons requires). */
  section(): Map<number, Uint8Array> {
    const fields = new Map<number, Uint8Array>();
    let prev = -1;
    for (;;) {
      if (this.pos >= this.data.length) throw new MacaroonError("malformed", "Cannot decode macaroon: section runs past the end");
      const p = this.packet();
      if (p.type === Field.eos) return fields;
      if (p.type <= prev) throw new MacaroonError("malformed", "Cannot decode macaroon: fields out of order");
      prev = p.type;
      fields.set(p.type, p.data);
    }
  }
}

function decodeV2(data: Uint8Array): [Macaroon, Uint8Array] {
  const r = new Reader(data);
  r.pos = 1;
  const head = r.section();
  const identifier = head.get(Field.identifier);
  if (!identifier || head.size !== (head.has(Field.location) ? 2 : 1)) {
    throw new MacaroonError("malformed", "Cannot decode macaroon: header needs an identifier and at most a location");
  }
  const caveats: Caveat[] = [];
  for (;;) {
    const s = r.section();
    if (s.size === 0) break;
    if (caveats.length >= MAX_CAVEATS) throw new MacaroonError("too_large", `Cannot decode macaroon: more than ${MAX_CAVEATS} caveats`);
    const id = s.get(Field.identifier);
    const known = [Field.location, Field.identifier, Field.vid].filter((t) => s.has(t)).length;
    if (!id || known !== s.size) throw new MacaroonError("malformed", `Cannot decode macaroon: caveat ${caveats.length} has unknown fields or no identifier`);
    const vid = s.get(Field.vid);
    const loc = s.get(Field.location);
    if (!vid && loc) throw new MacaroonError("malformed", `Cannot decode macaroon: first-party caveat ${caveats.length} has a location`);
    caveats.push(vid ? (loc ? { id, verificationId: vid, location: text(loc, "caveat location") } : { id, verificationId: vid }) : { id });
  }
  const sig = r.packet();
  if (sig.type !== Field.signature) throw new MacaroonError("malformed", "Cannot decode macaroon: expected the signature");
  if (sig.data.length !== HASH_BYTES) throw new MacaroonError("malformed", `Cannot decode macaroon: signature of ${sig.data.length} bytes`);
  const location = head.get(Field.location);
  const m: Macaroon = { version: 2, location: location ? text(location, "location") : "", identifier, caveats, signature: sig.data };
  return [m, data.subarray(r.pos)];
}

const V1_HEADER_BYTES = 4;

function isLowerHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66);
}

function readV1Packet(data: Uint8Array, pos: number): { name: string; value: Uint8Array; next: number } {
  if (pos + V1_HEADER_BYTES > data.length) throw new MacaroonError("malformed", "Cannot decode v1 macaroon: packet header runs past the end");
  const header = String.fromCharCode(...data.subarray(pos, pos + V1_HEADER_BYTES));
  if (!/^[0-9a-f]{4}$/.test(header)) throw new MacaroonError("malformed", `Cannot decode v1 macaroon: bad packet length "${header}"`);
  const len = parseInt(header, 16);
  if (len < V1_HEADER_BYTES + 2 || pos + len > data.length) throw new MacaroonError("malformed", `Cannot decode v1 macaroon: packet length ${len} out of range`);
  const body = data.subarray(pos + V1_HEADER_BYTES, pos + len);
  if (body[body.length - 1] !== 0x0a) throw new MacaroonError("malformed", "Cannot decode v1 macaroon: packet does not end with a newline");
  const space = body.indexOf(0x20);
  if (space < 0) throw new MacaroonError("malformed", "Cannot decode v1 macaroon: packet has no field name");
  const value = body.slice(space + 1, body.length - 1);
  if (value.length > MAX_FIELD_BYTES) throw new MacaroonError("too_large", `Cannot decode v1 macaroon: field of ${value.length} bytes`);
  return { name: text(body.subarray(0, space), "field name"), value, next: pos + len };
}

function decodeV1(data: Uint8Array): [Macaroon, Uint8Array] {
  const loc = readV1Packet(data, 0);
  if (loc.name !== "location") throw new MacaroonError("malformed", `Cannot decode v1 macaroon: expected location, got "${loc.name}"`);
  const id = readV1Packet(data, loc.next);
  if (id.name !== "identifier") throw new MacaroonError("malformed", `Cannot decode v1 macaroon: expected identifier, got "${id.name}"`);
  const caveats: { id: Uint8Array; verificationId?: Uint8Array; location?: string }[] = [];
  let pos = id.next;
  for (;;) {
    const p = readV1Packet(data, pos);
    pos = p.next;
    const cur = caveats[caveats.length - 1];
    if (p.name === "signature") {
      if (p.value.length !== HASH_BYTES) throw new MacaroonError("malformed", `Cannot decode v1 macaroon: signature of ${p.value.length} bytes`);
      const m: Macaroon = { version: 1, location: text(loc.value, "location"), identifier: id.value, caveats, signature: p.value };
      return [m, data.subarray(pos)];
    }
    if (p.name === "cid") {
      if (caveats.length >= MAX_CAVEATS) throw new MacaroonError("too_large", `Cannot decode v1 macaroon: more than ${MAX_CAVEATS} caveats`);
      caveats.push({ id: p.value });
    } else if (p.name === "vid" && cur && !cur.verificationId) {
      cur.verificationId = p.value;
    } else if (p.name === "cl" && cur && cur.location === undefined) {
      const l = text(p.value, "caveat location");
      if (l) cur.location = l;
    } else {
      throw new MacaroonError("malformed", `Cannot decode v1 macaroon: unexpected field "${p.name}"`);
    }
  }
}

/**
 * Encodes `m` in the v1 binary format (for peers that only read v1). v1 needs UTF-8 identifiers and caveats.
 */
export function encodeBinaryV1(m: Macaroon): Uint8Array {
  const parts: Uint8Array[] = [];
  const add = (name: string, value: Uint8Array) => {
    const len = V1_HEADER_BYTES + name.length + 2 + value.length;
    if (len > MAX_V1_PACKET_BYTES) throw new MacaroonError("too_large", `Cannot encode v1 macaroon: ${name} packet of ${len} bytes`);
    const head = encoder.encode(len.toString(16).padStart(V1_HEADER_BYTES, "0") + name + " ");
    const p = new Uint8Array(len);
    p.set(head, 0);
    p.set(value, head.length);
    p[len - 1] = 0x0a;
    parts.push(p);
  };
  add("location", encoder.encode(m.location));
  add("identifier", utf8Only(m.identifier, "identifier"));
  for (const c of m.caveats) {
    add("cid", utf8Only(c.id, "caveat id"));
    if (!c.verificationId?.length) continue;
    add("vid", c.verificationId);
    add("cl", encoder.encode(c.location ?? ""));
  }
  add("signature", m.signature);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function utf8Only(bytes: Uint8Array, what: string): Uint8Array {
  text(bytes, what);
  return bytes;
}

function text(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new MacaroonError("bad_encoding", `Cannot decode macaroon: ${what} is not UTF-8`);
  }
}
