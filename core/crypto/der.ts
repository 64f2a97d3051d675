/**
 * Minimal DER (ASN.1) encoder: just what building X.509 certificates needs. Encoding only; reading the few
 * fields the dev CA needs back is der_reader.ts.
 */
export type Der = Uint8Array;

function length(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** A TLV with the given tag byte around the concatenation of `parts`. */
export function tlv(tag: number, ...parts: Uint8Array[]): Der {
  const size = parts.reduce((s, p) => s + p.byteLength, 0);
  const head = [tag, ...length(size)];
  const out = new Uint8Array(head.length + size);
  out.set(head, 0);
  let off = head.length;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

export const seq = (...parts: Der[]): Der => tlv(0x30, ...parts);
export const set = (...parts: Der[]): Der => tlv(0x31, ...parts);
export const bool = (v: boolean): Der => tlv(0x01, Uint8Array.of(v ? 0xff : 0));
export const octets = (b: Uint8Array): Der => tlv(0x04, b);
export const utf8 = (s: string): Der => tlv(0x0c, new TextEncoder().encode(s));
/** Context-specific constructed tag `[n]` (explicit tagging). */
export const explicit = (n: number, ...parts: Der[]): Der => tlv(0xa0 | n, ...parts);
/** Context-specific primitive tag `[n]` (implicit tagging of a primitive value). */
export const implicit = (n: number, b: Uint8Array): Der => tlv(0x80 | n, b);

/** A non-negative INTEGER from big-endian magnitude bytes. */
export function uint(bytes: Uint8Array): Der {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  return (trimmed[0] ?? 0) & 0x80 ? tlv(0x02, Uint8Array.of(0), trimmed) : tlv(0x02, trimmed);
}

/** BIT STRING with `unused` padding bits in the last byte. */
export const bits = (b: Uint8Array, unused = 0): Der => tlv(0x03, Uint8Array.of(unused), b);

/** OBJECT IDENTIFIER from dotted text. */
export function oid(dotted: string): Der {
  const arcs = dotted.split(".").map(Number);
  const out: number[] = [arcs[0]! * 40 + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Uint8Array.from(out));
}

/** UTCTime (years 1950-2049) or GeneralizedTime, as X.509 requires. */
export function time(d: Date): Der {
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14) + "Z"; // YYYYMMDDHHMMSSZ
  const year = d.getUTCFullYear();
  return year < 2050 ? tlv(0x17, new TextEncoder().encode(iso.slice(2))) : tlv(0x18, new TextEncoder().encode(iso));
}
