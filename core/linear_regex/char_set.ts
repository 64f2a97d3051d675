/**
 * Sets of UTF-16 code units for linear_regex: sorted, merged ranges plus a table for ASCII, which is what
 * key names are made of, so the common test is one array read.
 */

/** A set of code units. */
export interface CharSet {
  /** Sorted, non-overlapping, non-adjacent inclusive ranges. */
  readonly ranges: readonly (readonly [number, number])[];
  /** 1 where the code unit below 128 is in the set. */
  readonly ascii: Uint8Array;
}

const MAX_UNIT = 0xffff;

/**
 * A set from ranges in any order, overlapping or not.
 * @example charSet([[97, 122], [48, 57]]).ranges // [[48, 57], [97, 122]]
 */
export function charSet(input: readonly (readonly [number, number])[]): CharSet {
  const sorted = [...input].sort((a, b) => a[0] - b[0]);
  const ranges: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else ranges.push([lo, hi]);
  }
  const ascii = new Uint8Array(128);
  for (const [lo, hi] of ranges) for (let c = lo; c <= Math.min(hi, 127); c++) ascii[c] = 1;
  return { ranges, ascii };
}

/** Every code unit not in `set`. */
export function complement(set: CharSet): CharSet {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of set.ranges) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_UNIT) out.push([next, MAX_UNIT]);
  return charSet(out);
}

/** Whether the code unit `c` is in `set`. */
export function inSet(set: CharSet, c: number): boolean {
  if (c < 128) return set.ascii[c] === 1;
  const r = set.ranges;
  let lo = 0;
  let hi = r.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const range = r[mid]!;
    if (c < range[0]) hi = mid - 1;
    else if (c > range[1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** `\d`. */
export const DIGIT = charSet([[48, 57]]);
/** `\w`: ASCII letters, digits and `_`, as RegExp without the `u` flag. */
export const WORD = charSet([[48, 57], [65, 90], [95, 95], [97, 122]]);
/** `\s`: ECMAScript WhiteSpace and LineTerminator. */
export const SPACE = charSet([
  [9, 13], [32, 32], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a], [0x2028, 0x2029], [0x202f, 0x202f],
  [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff],
]);
/** `.`: anything but a line terminator. */
export const DOT = complement(charSet([[10, 10], [13, 13], [0x2028, 0x2029]]));
