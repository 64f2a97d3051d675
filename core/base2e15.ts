/**
 * Base2e15, the text form the reference stores `isBinary` values in (the at_base2e15 package): each character
 * carries 15 bits of a big-endian bit stream, mapped onto three blocks of code points; a last character from a
 * fourth block carries 7 bits, left-aligned, and ends the data. Characters outside the blocks are skipped, and
 * bits short of a whole byte at the end are dropped, as the reference's decoder does.
 *
 *   15-bit value 0x0000..0x1935 ↔ U+3480..U+4DB5, 0x1936..0x545B ↔ U+4E00..U+8925, 0x545C..0x7FFF ↔ U+AC00..U+D7A3
 *   7-bit value  0x00..0x7F     ↔ U+3400..U+347F
 */

/** A 15-bit block: first code point, last code point, the value of the first. */
const BLOCKS15: readonly (readonly [number, number, number])[] = [
  [0x3480, 0x4db5, 0x0000],
  [0x4e00, 0x8925, 0x1936],
  [0xac00, 0xd7a3, 0x545c],
];
const LAST7_FIRST = 0x3400;
const LAST7_END = 0x347f;

/**
 * The bytes a Base2e15 text encodes.
 * @example base2e15Decode("\u3480\u3440") // Uint8Array [0, 1]
 */
export function base2e15Decode(text: string): Uint8Array {
  const out = new Uint8Array(Math.ceil((text.length * 15) / 8));
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const last = code >= LAST7_FIRST && code <= LAST7_END;
    const block = last ? undefined : BLOCKS15.find(([first, end]) => code >= first && code <= end);
    if (!last && block === undefined) continue;
    const width = last ? 7 : 15;
    acc = (acc << width) | (last ? code - LAST7_FIRST : code - block![0] + block![2]);
    bits += width;
    while (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
    if (last) break;
  }
  return out.subarray(0, n);
}
