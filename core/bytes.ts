/**
 * Byte helpers shared by the wire parsers, the relay handshake and the readers of bodies and stdin.
 */

/**
 * Concatenates `parts` into one new array.
 * @example concatBytes([Uint8Array.of(1), Uint8Array.of(2, 3)]) // Uint8Array [1, 2, 3]
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.byteLength;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

/**
 * Reads a byte stream (a ReadableStream or any async iterable) to its end, or null as soon as it grows past
 * `limit` bytes — the rest is not read (leaving the loop cancels a ReadableStream).
 * @example await readBounded(res.body, 65_536)
 */
export async function readBounded(source: AsyncIterable<Uint8Array> | null, limit: number): Promise<Uint8Array | null> {
  if (!source) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of source) {
    total += chunk.byteLength;
    if (total > limit) return null;
    parts.push(chunk);
  }
  return concatBytes(parts);
}
