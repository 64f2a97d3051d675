/**
 * Sending notifications (ATPROTOCOL.md §5.9) and asking for their delivery status (§5.10).
 *
 * A key notification's value is sealed exactly like a shared put: AES-256-CTR under the per-recipient shared
 * key with a fresh `ivNonce`, the key wrapped for the recipient (`sharedKeyEnc`) and the checksum of the
 * recipient's public key (`pubKeyCS`). The id is made here (UUIDv4), so a request repeated after a dropped
 * connection is the same notification (the server de-duplicates by id) and the caller knows it up front.
 *
 * A text message is sealed the same way, and its ciphertext (base64: no `:` or `@`) takes the key position of
 * the line, where the reference puts an encrypted text; `ivNonce`, `sharedKeyEnc` and `pubKeyCS` travel in the
 * notify metadata, which our servers keep for text messages too (the reference keeps only isEncrypted).
 * Plain text needs `encrypt: false`.
 */
import { randomUUID } from "node:crypto";
import { normalizeAtSign } from "../../core/atsign.ts";
import { buildCommand, type MetadataPatch } from "../../core/verbs/index.ts";
import { parseKeyRef, type KeyRef } from "../data/key_name.ts";
import { sealShared, type SharedKey } from "../data/value_crypto.ts";
import { AtServerError, AtUsageError } from "../errors.ts";

/** Options of `AtClient.notify`. */
export interface NotifyOptions {
  /** A text message: the `key` argument is the text (value must be absent). */
  text?: boolean;
  /**
   * false: send the value (or the text of a text message) as given, marked `isEncrypted:false`, readable by
   * both servers (for values already sealed end to end, such as signed envelopes, or text meant to be
   * public). Default true: sealed for the recipient.
   */
  encrypt?: boolean;
  /** The notification expires (undelivered, unread) this many ms after it is sent. */
  ttln?: number;
  /** Notification id; default a new UUIDv4. */
  id?: string;
  /** `update` (default) or `delete`: what happened to the key. */
  operation?: "update" | "delete";
  /** With strategy `latest`, only the newest `latestN` per notifier are kept in the sender's queue. */
  strategy?: "all" | "latest";
  latestN?: number;
  notifier?: string;
  priority?: "low" | "medium" | "high";
}

/** What sending needs from its client. */
export interface NotifyContext {
  me: string;
  /** The shared key for a recipient (created and stored on first use). */
  sharedKeyFor(atSign: string): Promise<SharedKey>;
  /** Sends one command on the authenticated connection; the payload after `data:`. */
  send(line: string): Promise<string>;
}

/** Delivery states `notify:status` reports. */
export type NotificationStatus = "delivered" | "errored" | "queued" | "expired";

const ID_RE = /^[\w-]{1,128}$/;
/** Parsed (recipient, key) pairs remembered: a stream of notifications repeats a few of them. */
export const NOTIFY_KEY_CACHE_MAX_ENTRIES = 1000;
const parsedKeys = new Map<string, KeyRef>();
// The reference key grammar `[^:@]((?!:{2})[^@])+` applied to a text message.
const TEXT_RE = /^[^:@\r\n](?:(?!::)[^@\r\n])+$/;

/**
 * Builds the notify line (value sealed for the recipient) and its id.
 * @example await notifyLine(ctx, "@bob", "phone.wavi", "+1-555") // { id: "…", line: "notify:id:…:@bob:phone.wavi@alice:<cipher>" }
 */
export async function notifyLine(ctx: NotifyContext, toText: string, key: string, value: string | undefined, opts: NotifyOptions = {}): Promise<{ id: string; line: string }> {
  const to = recipient(toText);
  const id = opts.id ?? randomUUID();
  if (!ID_RE.test(id)) throw new AtUsageError(`Invalid notification id "${id}": letters, digits, _ and - only (at most 128)`);
  if (opts.ttln !== undefined && (!Number.isSafeInteger(opts.ttln) || opts.ttln <= 0)) throw new AtUsageError(`Invalid ttln ${opts.ttln}: expected a positive whole number of milliseconds`);
  if (opts.strategy === "latest" && !opts.notifier) throw new AtUsageError("strategy latest needs a notifier");
  const common = {
    verb: "notify" as const,
    id,
    ...(opts.operation ? { operation: opts.operation } : {}),
    ...(opts.priority ? { priority: opts.priority } : {}),
    ...(opts.strategy ? { strategy: opts.strategy } : {}),
    ...(opts.latestN !== undefined ? { latestN: opts.latestN } : {}),
    ...(opts.notifier ? { notifier: opts.notifier } : {}),
    ...(opts.ttln !== undefined ? { ttln: opts.ttln } : {}),
    forAtSign: to,
  };
  if (opts.text) {
    if (value !== undefined) throw new AtUsageError("A text message has no value: its text is the key argument");
    if (!TEXT_RE.test(key)) throw new AtUsageError("A text message needs at least 2 characters and cannot contain '@', '::', line breaks or start with ':'");
    const sealed = opts.encrypt === false ? { value: key, meta: { isEncrypted: false } } : sealShared(await ctx.sharedKeyFor(to), key);
    return { id, line: buildCommand({ ...common, messageType: "text", metadata: sealed.meta, atKey: sealed.value }) };
  }
  const ref = keyRefFor(`${to}:${key}`, ctx.me);
  if (ref.owner !== ctx.me) throw new AtUsageError(`Cannot notify about ${key}: only ${ref.owner} can notify about its keys`);
  let metadata: MetadataPatch = {};
  let sealedValue: string | undefined;
  if (value !== undefined) {
    if (value === "") throw new AtUsageError("A notification value cannot be empty (leave it out instead)");
    if (opts.operation === "delete") throw new AtUsageError("A delete notification carries no value");
    const sealed = opts.encrypt === false ? { value, meta: { isEncrypted: false } } : sealShared(await ctx.sharedKeyFor(to), value);
    metadata = sealed.meta;
    sealedValue = sealed.value;
  }
  return {
    id,
    line: buildCommand({ ...common, messageType: "key", metadata, atKey: ref.name, atSign: ctx.me, ...(sealedValue !== undefined ? { value: sealedValue } : {}) }),
  };
}

/**
 * Sends a notification; resolves with its id once the sender's server has stored it (delivery to the
 * recipient's server follows; see `notificationStatus`).
 */
export async function sendNotify(ctx: NotifyContext, to: string, key: string, value?: string, opts: NotifyOptions = {}): Promise<string> {
  const { id, line } = await notifyLine(ctx, to, key, value, opts);
  const answer = await ctx.send(line);
  return answer.trim() || id;
}

/**
 * `notify:status:<id>`: where a sent notification is; null when the server does not know the id.
 * @example await notificationStatus(send, id) // "delivered"
 */
export async function notificationStatus(send: (line: string) => Promise<string>, id: string): Promise<NotificationStatus | null> {
  if (!/^\S+$/.test(id)) throw new AtUsageError(`Invalid notification id "${id}"`);
  const answer = (await send(buildCommand({ verb: "notifyStatus", id }))).trim();
  if (answer === "null") return null;
  if (answer === "delivered" || answer === "errored" || answer === "queued" || answer === "expired") return answer;
  throw new AtServerError("AT0014", "server", `notify:status answered "${answer.slice(0, 40)}"`);
}

function keyRefFor(text: string, me: string): KeyRef {
  const cacheKey = `${me} ${text}`;
  let ref = parsedKeys.get(cacheKey);
  if (!ref) {
    ref = parseKeyRef(text, me);
    if (parsedKeys.size >= NOTIFY_KEY_CACHE_MAX_ENTRIES) parsedKeys.delete(parsedKeys.keys().next().value!);
    parsedKeys.set(cacheKey, ref);
  }
  return ref;
}

const recipients = new Map<string, string>();

// normalizeAtSign checks every character; the same few recipients come back all the time.
function recipient(text: string): string {
  const known = recipients.get(text);
  if (known) return known;
  const canonical = checkedRecipient(text);
  if (recipients.size >= NOTIFY_KEY_CACHE_MAX_ENTRIES) recipients.delete(recipients.keys().next().value!);
  recipients.set(text, canonical);
  return canonical;
}

function checkedRecipient(text: string): string {
  try {
    return normalizeAtSign(text);
  } catch (e) {
    throw new AtUsageError(`Invalid recipient "${text}": ${(e as Error).message}`);
  }
}
