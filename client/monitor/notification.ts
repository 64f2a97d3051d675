/**
 * The notification JSON a monitor receives (ATPROTOCOL.md §6.3), validated with zod because it comes from a
 * server, and the typed notification the SDK hands out. Both the live variant (metadata with sharedKeyEnc)
 * and the replayed one (availableAt/expiresAt, no sharedKeyEnc) parse; unknown fields pass.
 */
import { z } from "zod/mini";

// Metadata fields are read one by one where they are used (string checks there); a record keeps the
// per-notification validation cheap.
const metadataSchema = z.record(z.string(), z.unknown());

const wireSchema = z.object({
  id: z.string().check(z.minLength(1)),
  from: z.string(),
  to: z.string(),
  key: z.string(),
  value: z.nullish(z.string()),
  operation: z.nullish(z.string()),
  epochMillis: z.number(),
  messageType: z.nullish(z.string()),
  isEncrypted: z.nullish(z.boolean()),
  metadata: z.nullish(metadataSchema),
});

/** A notification as the server sent it (value still encrypted). */
export type WireNotification = z.infer<typeof wireSchema>;

/** Id of the stats notifications every monitor gets (value = the server's latest commit id). */
export const STATS_NOTIFICATION_ID = "-1";

/** One notification as the SDK yields it. */
export interface AtNotification {
  id: string;
  from: string;
  to: string;
  /** `@bob:phone.wavi@alice`, `public:x@alice`, or for text messages `@bob:<text>` (decrypted, as Dart does). */
  key: string;
  operation: "update" | "delete";
  messageType: "key" | "text";
  /** Server time the notification was stored at the receiver (ms since the epoch). */
  epochMillis: number;
  /** The value in clear: decrypted when it came encrypted, the text of a text message, else as sent. */
  value: string | null;
  /** Whether the sender marked it encrypted (the value above is already decrypted). */
  isEncrypted: boolean;
  /** Why the value could not be decrypted (then `value` is null). */
  decryptError?: string;
  /** The metadata as received. */
  metadata: Record<string, unknown> | null;
}

/**
 * Parses the JSON after `notification: `; null when it is not a notification we can use.
 * @example parseNotificationJson('{"id":"n1","from":"@a","to":"@b","key":"@b:k@a","value":null,"epochMillis":1}')
 */
export function parseNotificationJson(json: string): WireNotification | null {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return null;
  }
  const r = wireSchema.safeParse(raw);
  return r.success ? r.data : null;
}

/** `MessageType.text` / `text` → "text"; anything else is a key notification. */
export function messageTypeOf(n: WireNotification): "key" | "text" {
  return /(^|\.)text$/i.test(n.messageType ?? "") ? "text" : "key";
}

/** A metadata field when it is a non-empty string. */
export function metaString(n: WireNotification, field: string): string | undefined {
  const v = n.metadata?.[field];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** The text of a text message: the key after `@bob:`. */
export function textOf(n: WireNotification): string {
  const colon = n.key.indexOf(":");
  return colon === -1 ? n.key : n.key.slice(colon + 1);
}
