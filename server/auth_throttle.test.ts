import { expect, test } from "bun:test";
import { AUTH_FAILURES_PER_ADDRESS_MAX, AUTH_THROTTLE_WINDOW_MS, newAuthThrottle } from "./auth_throttle.ts";

test("an address is refused after too many failures, until its window ends", () => {
  const t = newAuthThrottle();
  for (let i = 0; i < AUTH_FAILURES_PER_ADDRESS_MAX; i++) t.fail("10.0.0.1", 1_000);
  expect(t.retryAfterMs("10.0.0.1", 1_000)).toBe(AUTH_THROTTLE_WINDOW_MS);
  expect(t.retryAfterMs("10.0.0.2", 1_000)).toBe(0);
  expect(t.retryAfterMs("10.0.0.1", 1_000 + AUTH_THROTTLE_WINDOW_MS)).toBe(0);
});
