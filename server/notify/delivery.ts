/**
 * Delivers queued (sent) notifications to other @signs' servers over the outbound pool (ATPROTOCOL.md §6.1).
 *
 * The queue is the notification store: a sent row with `next_at` set is pending. Recipients are served
 * longest-waiting first, a bounded number at a time; each recipient's due rows go out pipelined on its one
 * session, and their outcomes are committed in one transaction. `data:success` marks a row delivered; any
 * answer that rejects the notification itself (syntax, authorisation, key length) ends it as errored; any
 * other failure reschedules it with exponential backoff (until maxAttempts or its ttln); an unreachable
 * recipient is quarantined with a growing pause. Delivery is at-least-once: a crash between the remote's
 * `data:success` and our commit re-sends, and the receiver recognises the id.
 */
import { buildNotify } from "../../core/verbs/notify.ts";
import type { CommandOf } from "../../core/verbs/command.ts";
import { errorKind, logger } from "../../core/log.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import { countOutcomes, type NotifyCounters } from "../metrics/server_metrics.ts";
import type { OutboundPool } from "../s2s/outbound_pool.ts";
import type { DeliveryOutcome, NotificationRow, NotificationStore } from "./notification_store.ts";

/** Delivery tuning; every field has a default below. */
export interface DeliveryLimits {
  /** Recipients served at once. */
  parallelRecipients: number;
  /** Rows taken per round for one recipient. */
  batchRows: number;
  /** Attempts before a notification is given up (status errored). */
  maxAttempts: number;
  /** First retry delay after an error answer; doubles per attempt up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** First pause after a recipient could not be reached; doubles per failure up to quarantineMaxMs. */
  quarantineBaseMs: number;
  quarantineMaxMs: number;
  /** Deadline of one notify request (the reference's 10 s). */
  requestTimeoutMs: number;
  /** Longest sleep of the queue job even when nothing is due (the reference's job period). */
  pollMs: number;
}

/** Defaults: the reference's 30 retries, 10 s quarantine, 10 s notify timeout, 5 s job period. */
export const DEFAULT_DELIVERY_LIMITS: DeliveryLimits = {
  parallelRecipients: 16,
  batchRows: 512,
  maxAttempts: 30,
  retryBaseMs: 1_000,
  retryMaxMs: 60_000,
  quarantineBaseMs: 500,
  quarantineMaxMs: 10_000,
  requestTimeoutMs: 10_000,
  pollMs: 5_000,
};

const log = logger("notify");

/** Answers that reject the notification itself (syntax, not ours to send, key too long, bad arguments). */
const PERMANENT_ERRORS: ReadonlySet<string> = new Set(["AT0003", "AT0009", "AT0016", "AT0022"]);

/** The running delivery job. */
export interface Delivery {
  /** Something was queued: look now. */
  wake(): void;
  stop(): void;
}

/** The notify line that carries `r` to its recipient's server. */
export function deliveryLine(r: NotificationRow): string {
  const cmd: CommandOf<"notify"> = {
    verb: "notify",
    id: r.id,
    operation: r.op,
    messageType: r.messageType,
    notifier: r.notifier,
    ttln: r.ttln,
    metadata: r.meta,
    atKey: "",
  };
  if (r.value !== null) cmd.value = r.value;
  if (r.messageType === "text") {
    cmd.forAtSign = r.to;
    cmd.atKey = r.key.slice(r.to.length + 1);
  } else {
    const at = r.key.lastIndexOf("@");
    cmd.atSign = r.key.slice(at);
    if (r.key.startsWith("public:")) {
      cmd.isPublic = true;
      cmd.atKey = r.key.slice("public:".length, at);
    } else {
      cmd.forAtSign = r.to;
      cmd.atKey = r.key.slice(r.to.length + 1, at);
    }
  }
  return buildNotify(cmd);
}

/**
 * Starts the delivery job; what happens to each row is counted in `counts`. A row `refuses` names (the owner's
 * gatekeeper denied it since it was queued) ends errored at its turn, unsent.
 * @example const d = startDelivery(store, pool); d.wake();
 */
export function startDelivery(
  store: NotificationStore,
  pool: OutboundPool,
  limits: Partial<DeliveryLimits> = {},
  counts?: NotifyCounters,
  refuses: (r: NotificationRow) => boolean = () => false,
): Delivery {
  const L: DeliveryLimits = { ...DEFAULT_DELIVERY_LIMITS, ...limits };
  const active = new Set<string>();
  const quarantine = new Map<string, number>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let scheduled = false;
  let stopped = false;

  const retryAt = (r: NotificationRow, now: number): number | null => {
    if (r.attempts + 1 >= L.maxAttempts) return null;
    return now + Math.min(L.retryMaxMs, L.retryBaseMs * 2 ** r.attempts);
  };

  const unreachable = (to: string, err: unknown) => {
    if (stopped) return;
    const failures = (quarantine.get(to) ?? 0) + 1;
    quarantine.set(to, failures);
    if (counts) counts.quarantined++;
    const now = Date.now();
    const pause = Math.min(L.quarantineMaxMs, L.quarantineBaseMs * 2 ** (failures - 1));
    store.postpone(to, now, now + pause);
    log.debug("recipient unreachable", { pauseMs: pause, error: errorKind(err) });
  };

  const drain = async (to: string) => {
    while (!stopped) {
      const rows = store.due(to, Date.now(), L.batchRows);
      if (rows.length === 0) return;
      const refused = rows.filter(refuses);
      if (refused.length > 0) {
        store.recordOutcomes(countOutcomes(counts, refused.map((r) => ({ seq: r.seq, delivered: false, retryAt: null }))));
        continue;
      }
      let session;
      try {
        session = await pool.session(to);
      } catch (err) {
        // The recipient answered but refused us (blocked, not on its allow list, certificate): that is a failed
        // attempt, so the status says errored and the retry budget applies. An unreachable one only pauses.
        if (err instanceof AtProtocolError && err.code === "AT0008") {
          const now = Date.now();
          store.recordOutcomes(countOutcomes(counts, rows.map((r) => ({ seq: r.seq, delivered: false, retryAt: retryAt(r, now) }))));
        }
        return unreachable(to, err);
      }
      quarantine.delete(to);
      const answers = await Promise.allSettled(rows.map((r) => session.request(deliveryLine(r), L.requestTimeoutMs)));
      const now = Date.now();
      let broken: unknown = null;
      const outcomes: DeliveryOutcome[] = rows.map((r, i) => {
        const a = answers[i]!;
        if (a.status === "fulfilled" && a.value.kind === "data" && a.value.payload === "success") return { seq: r.seq, delivered: true };
        if (a.status === "rejected") broken ??= a.reason;
        // The receiver judged this notification itself invalid: sending it again cannot help.
        if (a.status === "fulfilled" && a.value.kind === "error" && PERMANENT_ERRORS.has(a.value.code)) return { seq: r.seq, delivered: false, retryAt: null };
        return { seq: r.seq, delivered: false, retryAt: retryAt(r, now) };
      });
      if (stopped) return;
      store.recordOutcomes(countOutcomes(counts, outcomes));
      if (broken !== null) return unreachable(to, broken);
    }
  };

  const schedule = () => {
    if (scheduled || stopped) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      if (stopped) return;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const now = Date.now();
      try {
        const free = L.parallelRecipients - active.size;
        if (free > 0) {
          for (const to of store.dueRecipients(now, L.parallelRecipients * 2)) {
            if (active.size >= L.parallelRecipients) break;
            if (active.has(to)) continue;
            active.add(to);
            drain(to)
              .catch((err: unknown) => log.error("delivery failed", { error: errorKind(err) }))
              .finally(() => {
                active.delete(to);
                schedule();
              });
          }
        }
        const next = store.nextDue();
        // Rows due now belong to recipients being drained (their end reschedules): sleep until the next one.
        const delay = next === null || next <= now ? L.pollMs : Math.min(next - now, L.pollMs);
        timer = setTimeout(schedule, delay);
        timer.unref();
      } catch (err) {
        if (!stopped) log.error("delivery scheduling failed", { error: String(err) });
      }
    });
  };

  schedule();
  return {
    wake: schedule,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
