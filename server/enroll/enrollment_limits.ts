/**
 * Limits of the enrollment verbs (ATPROTOCOL.md §2.7, §8) and the per-connection counters that enforce them.
 * The counters live in a WeakMap keyed by the connection, so they vanish with it and need no cleanup.
 */
import type { Connection } from "../connection.ts";

/** Tunable limits; servers take the defaults below unless `startServer` is given others (tests shorten them). */
export interface EnrollmentLimits {
  /** How long a pending request waits for approval before it expires. */
  pendingLifetimeMs: number;
  /** `enroll:request` lines one connection may send per window. */
  requestsPerWindow: number;
  /** Window of `requestsPerWindow`. */
  requestWindowMs: number;
  /** First delay before answering a wrong OTP; later failures on the connection grow it like Fibonacci. */
  otpFailureDelayBaseMs: number;
  /** Longest delay before answering a wrong OTP. */
  otpFailureDelayMaxMs: number;
  /** Lifetime of an `otp:get` passcode when the request gives none. */
  otpDefaultTtlMs: number;
  /** Longest lifetime `otp:get:ttl:` may ask for. */
  otpMaxTtlMs: number;
  /** Enrollment records (any status) a server keeps; further requests are refused. */
  maxEnrollments: number;
  /**
   * Self-enrollment: how long a replaced enrollment keeps working after its successor first authenticates
   * (the reference's `apkamSelfEnrollmentGraceHours`), so sibling copies of one key file can migrate too.
   */
  selfEnrollmentGraceMs: number;
}

/** The reference's values: 48 h pending, 5 requests per hour, Fibonacci back-off to 55 s, OTPs of 5 min; a 24 h self-enrollment grace. */
export const DEFAULT_ENROLLMENT_LIMITS: EnrollmentLimits = {
  pendingLifetimeMs: 48 * 3_600_000,
  requestsPerWindow: 5,
  requestWindowMs: 3_600_000,
  otpFailureDelayBaseMs: 1_000,
  otpFailureDelayMaxMs: 55_000,
  otpDefaultTtlMs: 5 * 60_000,
  otpMaxTtlMs: 24 * 3_600_000,
  maxEnrollments: 10_000,
  selfEnrollmentGraceMs: 24 * 3_600_000,
};

/** The effective limits for a server's optional overrides. */
export function enrollmentLimits(overrides: Partial<EnrollmentLimits> | undefined): EnrollmentLimits {
  return { ...DEFAULT_ENROLLMENT_LIMITS, ...overrides };
}

interface ConnectionCounters {
  windowStart: number;
  requests: number;
  otpFailures: number;
}

const counters = new WeakMap<Connection, ConnectionCounters>();

function countersOf(conn: Connection, now = Date.now()): ConnectionCounters {
  let c = counters.get(conn);
  if (!c) {
    c = { windowStart: now, requests: 0, otpFailures: 0 };
    counters.set(conn, c);
  }
  return c;
}

/** Counts one `enroll:request`; false when the connection already used up its window. */
export function takeRequestSlot(conn: Connection, limits: EnrollmentLimits, now = Date.now()): boolean {
  const c = countersOf(conn, now);
  if (now - c.windowStart >= limits.requestWindowMs) {
    c.windowStart = now;
    c.requests = 0;
  }
  if (c.requests >= limits.requestsPerWindow) return false;
  c.requests++;
  return true;
}

/** Records a wrong OTP on the connection and returns how long to wait before answering (Fibonacci, capped). */
export function otpFailureDelayMs(conn: Connection, limits: EnrollmentLimits): number {
  const n = ++countersOf(conn).otpFailures;
  let [a, b] = [1, 1];
  for (let i = 1; i < n && a * limits.otpFailureDelayBaseMs < limits.otpFailureDelayMaxMs; i++) [a, b] = [b, a + b];
  return Math.min(a * limits.otpFailureDelayBaseMs, limits.otpFailureDelayMaxMs);
}
