import { describe, expect, test } from "bun:test";
import { RANDOM_INT_MAX, randomInt } from "./random_int.ts";

describe("randomInt", () => {
  test("stays in [0, max) and reaches every value of a small range", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = randomInt(34);
      expect(v >= 0 && v < 34 && Number.isInteger(v)).toBe(true);
      seen.add(v);
    }
    expect(seen.size).toBe(34);
    expect(randomInt(1)).toBe(0);
    expect(randomInt(RANDOM_INT_MAX)).toBeLessThan(RANDOM_INT_MAX);
  });

  test("refuses a max it cannot serve", () => {
    for (const max of [0, -1, 1.5, RANDOM_INT_MAX + 1, Number.NaN]) expect(() => randomInt(max)).toThrow(RangeError);
  });
});
