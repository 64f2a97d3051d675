/**
 * AtMonitor: the notifications of my @sign as an async iterator, on a connection of its own. It survives
 * drops: after a lost connection it reconnects with backoff and asks the server to replay from the last
 * notification it saw (`monitor:<epochMillis>`), so nothing is missed; the replay overlaps by a millisecond
 * (several notifications can share one) and ids already seen are dropped, so nothing is yielded twice.
 *
 * A consumer slower than the stream does not grow memory without bound: past MONITOR_QUEUE_MAX_ITEMS the
 * connection is closed and re-opened with a replay once the consumer has caught up.
 */
import type { AtKeys } from "../../core/crypto/index.ts";
import type { HostPort } from "../connection/root_lookup.ts";
import { AtClientError, AtNetworkError } from "../errors.ts";
import { openMonitorConnection, type MonitorConnection } from "./monitor_connection.ts";
import { parseNotificationJson, STATS_NOTIFICATION_ID, type AtNotification, type WireNotification } from "./notification.ts";
import type { NotificationOpener } from "./open_notification.ts";

/** Notifications received but not yet taken by the consumer; beyond it the connection pauses (see above). */
export const MONITOR_QUEUE_MAX_ITEMS = 10_000;
/** Ids remembered to drop replayed duplicates; the oldest is forgotten first. */
export const MONITOR_SEEN_IDS_MAX = 10_000;
/** Default interval of the `noop:0` heartbeat (an unanswered one ends the connection at the next tick). */
export const MONITOR_HEARTBEAT_MS = 15_000;
/** Default deadline for connect + TLS + PKAM + monitor. */
export const MONITOR_CONNECT_TIMEOUT_MS = 10_000;
/** Delays before reconnect attempts; the last one repeats until the server is back. */
export const MONITOR_BACKOFF_MS = [100, 250, 500, 1_000, 2_000, 5_000] as const;
/** Taken items at the head of the queue before it is compacted (instead of shifting on every take). */
const QUEUE_COMPACT_AFTER_ITEMS = 1024;
/** How far a resumed monitor asks to go back before the last notification seen. */
const RESUME_OVERLAP_MS = 1;

/** Options of `AtClient.monitor`. */
export interface MonitorOptions {
  /** Only notifications whose key (or sender without `@`) matches; server-side. */
  regex?: string;
  /** Replay stored notifications newer than this (ms since the epoch) before the live ones. */
  since?: number;
  /** Also yield `self` notifications (e.g. enrollment requests). */
  selfNotifications?: boolean;
  heartbeatMs?: number;
  connectTimeoutMs?: number;
  /** Received-but-untaken notifications before the connection pauses; default MONITOR_QUEUE_MAX_ITEMS. */
  queueMaxItems?: number;
  backoffMs?: readonly number[];
  /**
   * Hears the server's stats notifications (its latest commit id, after each change of my keys and
   * periodically); they are not yielded. Sync uses them to know when to pull.
   */
  onStats?(commitId: number | null, epochMillis: number): void;
  /**
   * Hears connection changes: connected (the first time), lost (with the reason), retrying (with the error),
   * reconnected (monitoring again; the detail says from when the replay resumes).
   */
  onStatus?(status: MonitorStatus, detail?: string): void;
}

/** A change of a monitor's connection. */
export type MonitorStatus = "connected" | "lost" | "retrying" | "reconnected";

/** What a monitor needs from its client. */
export interface MonitorContext {
  keys: AtKeys;
  ca: string[];
  /** My atServer's address (asks the directory unless fixed). */
  resolve(): Promise<HostPort>;
  /** Drops a cached address after a failure. */
  forget(): void;
  open: NotificationOpener;
  /** Hears once that the monitor closed (by `close`, or after a refusal that ends it). */
  onClosed?(monitor: AtMonitor): void;
}

/** A running monitor; iterate it with `for await`. */
export class AtMonitor implements AsyncIterable<AtNotification> {
  /** Resolves once the first connection is monitoring; rejects when it could not be set up. */
  readonly ready: Promise<void>;
  private readonly queue: WireNotification[] = [];
  private queueHead = 0;
  private readonly seen = new Set<string>();
  /** The ids in `seen`, oldest first, as a ring (evicting through the Set's iterator gets slow). */
  private readonly seenRing: string[] = [];
  private seenNext = 0;
  private conn: MonitorConnection | null = null;
  private closed = false;
  private fatal: Error | null = null;
  private paused = false;
  private wake: (() => void) | null = null;
  private sleepCancel: (() => void) | null = null;
  private resumeFromMs: number | null;
  private readyOutcome!: { resolve(): void; reject(e: Error): void };
  private readonly queueMax: number;
  /** Connections opened so far; lines are tagged with theirs. */
  private generation = 0;
  /** The connection whose lines overflowed the queue: everything after that is ignored and replayed later. */
  private droppedGeneration = -1;

  constructor(
    private readonly ctx: MonitorContext,
    private readonly opts: MonitorOptions = {},
  ) {
    this.resumeFromMs = opts.since ?? null;
    this.queueMax = Math.max(1, opts.queueMaxItems ?? MONITOR_QUEUE_MAX_ITEMS);
    this.ready = new Promise<void>((resolve, reject) => (this.readyOutcome = { resolve, reject }));
    // A caller that only iterates must not see an unhandled rejection from `ready`.
    this.ready.catch(() => {});
    void this.run();
  }

  /** Server time of the newest notification received (the resume point), or null before the first. */
  get lastEpochMillis(): number | null {
    return this.resumeFromMs;
  }

  /** Closes the connection; iteration ends after the notifications already received. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conn?.close();
    this.sleepCancel?.();
    this.signal();
    this.ctx.onClosed?.(this);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<AtNotification> {
    try {
      for (;;) {
        const next = this.take();
        if (next) {
          yield await this.ctx.open(next);
          continue;
        }
        if (this.fatal) throw this.fatal;
        if (this.closed) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      this.close();
    }
  }

  private take(): WireNotification | undefined {
    if (this.queueHead >= this.queue.length) return undefined;
    const n = this.queue[this.queueHead++];
    if (this.queueHead > QUEUE_COMPACT_AFTER_ITEMS && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    if (this.paused && this.pending() <= this.queueMax / 2) {
      this.paused = false;
      this.sleepCancel?.();
    }
    return n;
  }

  private pending(): number {
    return this.queue.length - this.queueHead;
  }

  private signal(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private onLine(json: string, generation: number): void {
    if (this.closed || generation === this.droppedGeneration) return;
    const n = parseNotificationJson(json);
    if (!n) return;
    if (n.id === STATS_NOTIFICATION_ID) {
      // Everything published before it reached us before it: a safe resume point.
      this.advance(n.epochMillis);
      const commitId = Number(n.value);
      this.opts.onStats?.(n.value != null && Number.isSafeInteger(commitId) ? commitId : null, n.epochMillis);
      return;
    }
    if (this.seen.has(n.id)) return;
    if (this.pending() >= this.queueMax) {
      // Drop it and everything after it on this connection, and pause: the replay on the connection opened
      // once the consumer caught up brings them back.
      this.paused = true;
      this.droppedGeneration = generation;
      this.conn?.close("the consumer is behind");
      return;
    }
    this.remember(n.id);
    this.advance(n.epochMillis);
    this.queue.push(n);
    this.signal();
  }

  private remember(id: string): void {
    if (this.seenRing.length < MONITOR_SEEN_IDS_MAX) this.seenRing.push(id);
    else {
      this.seen.delete(this.seenRing[this.seenNext]!);
      this.seenRing[this.seenNext] = id;
      this.seenNext = (this.seenNext + 1) % MONITOR_SEEN_IDS_MAX;
    }
    this.seen.add(id);
  }

  private advance(epochMillis: number): void {
    if (this.resumeFromMs === null || epochMillis > this.resumeFromMs) this.resumeFromMs = epochMillis;
  }

  private async run(): Promise<void> {
    let everReady = false;
    let refusedBefore = false;
    let attempt = 0;
    const backoff = this.opts.backoffMs ?? MONITOR_BACKOFF_MS;
    while (!this.closed) {
      if (this.paused) await this.sleep(Number.MAX_SAFE_INTEGER);
      if (this.closed) break;
      try {
        const generation = ++this.generation;
        const since = !everReady || this.resumeFromMs === null ? this.opts.since : this.resumeFromMs - RESUME_OVERLAP_MS;
        const conn = await openMonitorConnection({
          address: await this.ctx.resolve(),
          ca: this.ctx.ca,
          keys: this.ctx.keys,
          ...(since !== undefined ? { sinceMs: since } : {}),
          ...(this.opts.regex !== undefined ? { regex: this.opts.regex } : {}),
          ...(this.opts.selfNotifications ? { selfNotifications: true } : {}),
          connectTimeoutMs: this.opts.connectTimeoutMs ?? MONITOR_CONNECT_TIMEOUT_MS,
          heartbeatMs: this.opts.heartbeatMs ?? MONITOR_HEARTBEAT_MS,
          onNotification: (json) => this.onLine(json, generation),
        });
        if (this.closed) {
          conn.close();
          break;
        }
        this.conn = conn;
        // The replay may already have filled the queue while the connection was being set up.
        if (this.droppedGeneration === generation) conn.close("the consumer is behind");
        attempt = 0;
        refusedBefore = false;
        if (!everReady) {
          everReady = true;
          // Without `since`, a later resume starts from when monitoring began (this machine's clock).
          this.resumeFromMs ??= Date.now() - RESUME_OVERLAP_MS;
          this.readyOutcome.resolve();
          this.opts.onStatus?.("connected");
        } else this.opts.onStatus?.("reconnected", since === undefined ? "live notifications only" : `replaying from ${since}`);
        const reason = await conn.done;
        this.conn = null;
        if (this.closed) break;
        if (this.droppedGeneration === generation) continue;
        this.opts.onStatus?.("lost", reason);
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        const refused = err instanceof AtClientError && err.kind !== "network";
        // Refusals that will not change by retrying end the monitor: bad keys, a bad regex, and any failure
        // of the very first connection (the caller should hear about a wrong address at once). After a drop,
        // a refusal may come from whatever now listens at my server's old address: only one that repeats
        // at the address the directory gives now is final.
        if (!everReady || (refused && refusedBefore)) {
          this.fatal = err instanceof AtClientError ? err : new AtNetworkError(`Cannot monitor: ${err.message}`, "AT0021", { cause: err });
          this.readyOutcome.reject(this.fatal);
          this.close();
          return;
        }
        refusedBefore = refused;
        this.ctx.forget();
        this.opts.onStatus?.("retrying", err.message);
      }
      await this.sleep(backoff[Math.min(attempt++, backoff.length - 1)] ?? 1_000);
    }
    this.signal();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.sleepCancel = done;
    });
  }
}
