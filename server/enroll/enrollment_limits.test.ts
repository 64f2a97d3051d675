import { expect, test } from "bun:test";
import { newConnection } from "../connection.ts";
import { enrollmentLimits, otpFailureDelayMs, takeRequestSlot } from "./enrollment_limits.ts";

const conn = () => newConnection("127.0.0.1", { write() {}, close() {} });

test("OTP failure delays grow like Fibonacci and stop at the maximum", () => {
  const c = conn();
  const limits = enrollmentLimits({ otpFailureDelayBaseMs: 1_000, otpFailureDelayMaxMs: 55_000 });
  const delays = Array.from({ length: 12 }, () => otpFailureDelayMs(c, limits));
  expect(delays).toEqual([1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 55, 55].map((s) => s * 1_000));
});

test("enroll:request slots per connection reset after the window", () => {
  const c = conn();
  const limits = enrollmentLimits({});
  const t0 = 1_000_000;
  const taken = Array.from({ length: 6 }, () => takeRequestSlot(c, limits, t0));
  expect(taken).toEqual([true, true, true, true, true, false]);
  expect(takeRequestSlot(c, limits, t0 + limits.requestWindowMs)).toBe(true);
});
