/**
 * Minimal DER (ASN.1) reader: walks tag-length-value elements so the dev CA can take fields out of its own
 * certificate (subject Name, public key) byte for byte, without node:crypto's X509Certificate. Definite
 * lengths only, as DER requires; anything else throws a RangeError naming the offset.
 */

/** One element: its tag byte and where its header, content and end are in the buffer. */
export interface DerElement {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the element. */
  end: number;
}

/** Longest length field accepted (4 bytes: up to 4 GiB, far beyond any certificate). */
const DER_LENGTH_MAX_BYTES = 4;

/** Reads the element starting at `offset` of `der`. */
export function readDerElement(der: Uint8Array, offset = 0): DerElement {
  const bad = (why: string) => new RangeError(`Cannot read DER at offset ${offset}: ${why}`);
  if (offset + 2 > der.byteLength) throw bad("truncated header");
  const tag = der[offset]!;
  if ((tag & 0x1f) === 0x1f) throw bad("multi-byte tags are not supported");
  const first = der[offset + 1]!;
  let contentStart = offset + 2;
  let length = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > DER_LENGTH_MAX_BYTES) throw bad("indefinite or oversized length");
    if (contentStart + n > der.byteLength) throw bad("truncated length");
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der[contentStart + i]!;
    contentStart += n;
  }
  const end = contentStart + length;
  if (end > der.byteLength) throw bad("content runs past the end");
  return { tag, start: offset, contentStart, end };
}

/** The elements inside a constructed element (a SEQUENCE, SET or explicit tag), in order. */
export function derChildren(der: Uint8Array, parent: DerElement): DerElement[] {
  const out: DerElement[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const child = readDerElement(der, at);
    if (child.end > parent.end) throw new RangeError(`Cannot read DER at offset ${at}: element runs past its parent`);
    out.push(child);
    at = child.end;
  }
  return out;
}

/** The whole encoding (header included) of an element, as a view into `der`. */
export function derBytes(der: Uint8Array, e: DerElement): Uint8Array {
  return der.subarray(e.start, e.end);
}
