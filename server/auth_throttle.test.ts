import { expect, test } from "bun:test";
import {
  AUTH_FAILURES_PER_ADDRESS_MAX,
  AUTH_FAILURES_PER_PREFIX_MAX,
  AUTH_SECRET_FAILURES_TOTAL_MAX,
  AUTH_THROTTLE_WINDOW_MS,
  newAuthThrottle,
} from "./auth_throttle.ts";

test("an address is refused after too many failures, until its window ends", () => {
  const t = newAuthThrottle();
  for (let i = 0; i < AUTH_FAILURES_PER_ADDRESS_MAX; i++) t.fail("10.0.0.1", "secret", 1_000);
  expect(t.retryAfterMs("10.0.0.1", "secret", 1_000)).toBe(AUTH_THROTTLE_WINDOW_MS);
  expect(t.retryAfterMs("10.0.1.2", "secret", 1_000)).toBe(0);
  expect(t.retryAfterMs("10.0.0.1", "secret", 1_000 + AUTH_THROTTLE_WINDOW_MS)).toBe(0);
});

test("failures from many addresses of one /24 or /64 count against the prefix", () => {
  const t = newAuthThrottle();
  for (let i = 0; i < AUTH_FAILURES_PER_PREFIX_MAX; i++) t.fail(`10.0.0.${i}`, "signature", 1_000);
  expect(t.retryAfterMs("10.0.0.250", "signature", 1_000)).toBe(AUTH_THROTTLE_WINDOW_MS);
  expect(t.retryAfterMs("::ffff:10.0.0.251", "secret", 1_000)).toBe(AUTH_THROTTLE_WINDOW_MS);
  expect(t.retryAfterMs("10.0.1.1", "secret", 1_000)).toBe(0);
  for (let i = 0; i < AUTH_FAILURES_PER_PREFIX_MAX; i++) t.fail(`2001:db8:0:7::${i.toString(16)}`, "signature", 1_000);
  expect(t.retryAfterMs("2001:db8:0:7:ffff::1", "signature", 1_000)).toBe(AUTH_THROTTLE_WINDOW_MS);
});

test("guesses at a secret are bounded in total; bad signatures do not lock PKAM out", () => {
  const t = newAuthThrottle();
  for (let i = 0; i < AUTH_SECRET_FAILURES_TOTAL_MAX; i++) t.fail(`10.${i}.0.1`, "secret", 1_000);
  expect(t.retryAfterMs("192.0.2.1", "secret", 1_000)).toBe(AUTH_THROTTLE_WINDOW_MS);
  expect(t.retryAfterMs("192.0.2.1", "signature", 1_000)).toBe(0);
  const s = newAuthThrottle();
  for (let i = 0; i < AUTH_SECRET_FAILURES_TOTAL_MAX; i++) s.fail(`10.${i}.0.1`, "signature", 1_000);
  expect(s.retryAfterMs("192.0.2.1", "secret", 1_000)).toBe(0);
});
