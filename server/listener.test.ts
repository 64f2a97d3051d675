import { expect, test } from "bun:test";
import { idleLimitMs } from "./listener.ts";

test("idle limits stay full up to half the pool, then shrink linearly to the floor", () => {
  expect(idleLimitMs(60_000, 5_000, 0.1)).toBe(60_000);
  expect(idleLimitMs(60_000, 5_000, 0.5)).toBe(60_000);
  expect(idleLimitMs(60_000, 5_000, 0.75)).toBe(32_500);
  expect(idleLimitMs(60_000, 5_000, 1)).toBe(5_000);
  expect(idleLimitMs(1_000, 5_000, 1)).toBe(1_000);
});
