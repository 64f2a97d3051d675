/**
 * An unbiased random integer from WebCrypto's generator (node:crypto's randomInt without loading node:crypto,
 * which costs a service ~5 MiB RSS).
 */

/** Largest `max` accepted: draws are 32-bit. */
export const RANDOM_INT_MAX = 2 ** 32;

/**
 * A uniform integer in [0, max). Rejection sampling: draws in the last partial block of 2^32 mod max values
 * are thrown away, so every result is equally likely.
 * @example const digit = randomInt(10);
 */
export function randomInt(max: number): number {
  if (!Number.isInteger(max) || max < 1 || max > RANDOM_INT_MAX) throw new RangeError(`randomInt: max must be an integer in [1, 2^32], got ${max}`);
  const limit = RANDOM_INT_MAX - (RANDOM_INT_MAX % max); // a multiple of max
  const draw = new Uint32Array(1);
  for (;;) {
    const v = crypto.getRandomValues(draw)[0]!;
    if (v < limit) return v % max;
  }
}
