/**
 * Every bound of the relay in one place. Defaults suit one small machine; the entry exposes the quotas as
 * flags and tests shrink the timeouts.
 */
import { RELAY_PREAUTH_TIMEOUT_MS } from "../core/relay/wire.ts";
import type { PenaltyLimits } from "./penalty_box.ts";
import { PIPE_QUEUE_LIMIT_BYTES, PIPE_TOTAL_QUEUE_LIMIT_BYTES } from "./pipe.ts";

/** The relay's limits (all counts are per relay process); failed legs close newcomers (relay/penalty_box.ts). */
export interface RelayLimits extends PenaltyLimits {
  /** A connection must finish the handshake within this time. */
  preAuthTimeoutMs: number;
  /**
   * Connections in the handshake at once. A newcomer to a full bound (this, or the two below) takes the place
   * of the oldest leg of its own address, else of its own prefix, else of the prefix holding the most
   * (core/net/stranger_pool.ts): a flood churns its own legs, and a pair from elsewhere still gets through.
   */
  maxPreAuthConnections: number;
  /** Connections in the handshake from one address. */
  maxPreAuthPerAddress: number;
  /** Connections in the handshake from one /24 (IPv4) or /64 (IPv6). */
  maxPreAuthPerPrefix: number;
  /** Times per preAuthChurnWindowMs a prefix may push out its own handshaking legs; then its newcomers are closed. */
  preAuthChurnPerPrefix: number;
  /** Length of that window (ms). */
  preAuthChurnWindowMs: number;
  /** An authenticated leg waits this long for its peer. */
  unpairedTtlMs: number;
  /** Authenticated legs waiting at once. */
  maxPendingLegs: number;
  /** Paired sessions at once. */
  maxPairs: number;
  /** Legs (pending or paired) one @sign may hold at once; a tunnel uses one per stream. */
  sessionsPerAtSign: number;
  /** Bytes, both directions together, after which a session is closed. */
  bytesPerSession: number;
  /** A session with no bytes either way for this long is closed. */
  idleTimeoutMs: number;
  /** Cap of the user-space queue per direction (see relay/pipe.ts). */
  queueLimitBytes: number;
  /** Budget of all queues together; past it every pair stops reading for a while (relay/pipe.ts). */
  totalQueueLimitBytes: number;
}

/** Default limits. */
export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  preAuthTimeoutMs: RELAY_PREAUTH_TIMEOUT_MS,
  maxPreAuthConnections: 10_000,
  maxPreAuthPerAddress: 256,
  maxPreAuthPerPrefix: 1_024,
  preAuthChurnPerPrefix: 4_096,
  preAuthChurnWindowMs: 10_000,
  failedLegsPerAddress: 100,
  failedLegsPerPrefix: 400,
  failedLegsWindowMs: 10_000,
  unpairedTtlMs: 30_000,
  maxPendingLegs: 20_000,
  maxPairs: 50_000,
  sessionsPerAtSign: 1_024,
  bytesPerSession: Number.MAX_SAFE_INTEGER,
  idleTimeoutMs: 15 * 60_000,
  queueLimitBytes: PIPE_QUEUE_LIMIT_BYTES,
  totalQueueLimitBytes: PIPE_TOTAL_QUEUE_LIMIT_BYTES,
};

/** Longest period of the timer that enforces deadlines (so deadlines are late by at most this much). */
export const SWEEP_INTERVAL_MAX_MS = 1_000;
