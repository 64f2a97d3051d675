import { expect, test } from "bun:test";
import { countEvent, newWindowCounter, retryAfterMs } from "./window_counter.ts";

test("a key is refused after max events until its window ends", () => {
  const c = newWindowCounter({ max: 3, windowMs: 1000, maxKeys: 10 });
  for (let i = 0; i < 3; i++) {
    expect(retryAfterMs(c, "a", 100)).toBe(0);
    countEvent(c, "a", 100);
  }
  expect(retryAfterMs(c, "a", 400)).toBe(700);
  expect(retryAfterMs(c, "b", 400)).toBe(0);
  expect(retryAfterMs(c, "a", 1100)).toBe(0);
});

test("the key map is bounded: the oldest key is forgotten", () => {
  const c = newWindowCounter({ max: 1, windowMs: 1000, maxKeys: 2 });
  countEvent(c, "a", 0);
  countEvent(c, "b", 0);
  countEvent(c, "c", 0);
  expect(c.windows.size).toBe(2);
  expect(retryAfterMs(c, "a", 1)).toBe(0);
  expect(retryAfterMs(c, "c", 1)).toBe(999);
});
