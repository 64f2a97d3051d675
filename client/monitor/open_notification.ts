/**
 * Turns a received notification into the SDK's AtNotification, decrypting a shared value the way a shared
 * get does (ATPROTOCOL.md §9): the AES key comes from the notification's `sharedKeyEnc` (live variant) or,
 * for replayed notifications that do not carry it, from the sender's `@me:shared_key@sender`, read through
 * my own atServer. Unwrapped keys are cached (RSA is the expensive step; a sender reuses its shared key),
 * so a steady stream costs one AES decryption per notification. An encrypted text message is opened the same
 * way: its ciphertext is the key after `@bob:`, and it is yielded with the text in both `value` and `key`.
 */
import { AtClientError } from "../errors.ts";
import { openSharedAsOwner, unwrapMine } from "../data/value_crypto.ts";
import { messageTypeOf, metaString, textOf, type AtNotification, type WireNotification } from "./notification.ts";

/** Unwrapped shared keys kept, by wrapped text and by sender; the oldest goes first. */
export const UNWRAPPED_KEY_CACHE_MAX_ENTRIES = 1000;

/** What decryption needs from its client. */
export interface NotificationKeys {
  encryptionPrivateKey: string;
  /** The sender's `@me:shared_key@sender` (wrapped for me), or null when it has none. */
  fetchWrappedSharedKey(sender: string): Promise<string | null>;
}

/** A decryptor with its caches. */
export type NotificationOpener = (n: WireNotification) => Promise<AtNotification>;

/**
 * Creates the opener for one client.
 * @example const open = notificationOpener({ encryptionPrivateKey, fetchWrappedSharedKey }); const n = await open(wire);
 */
export function notificationOpener(keys: NotificationKeys): NotificationOpener {
  const byWrapped = new Map<string, string>();
  const remember = (wrapped: string, key: string) => {
    if (byWrapped.size >= UNWRAPPED_KEY_CACHE_MAX_ENTRIES) byWrapped.delete(byWrapped.keys().next().value!);
    byWrapped.set(wrapped, key);
    return key;
  };
  const unwrap = (wrapped: string, name: string) => byWrapped.get(wrapped) ?? remember(wrapped, unwrapMine(keys.encryptionPrivateKey, wrapped, name));

  const sharedKeyFor = async (n: WireNotification): Promise<string> => {
    const enc = metaString(n, "sharedKeyEnc");
    if (enc) return unwrap(enc, n.key);
    const wrapped = await keys.fetchWrappedSharedKey(n.from);
    if (wrapped === null) throw new AtClientError("AT0015", "not_found", `${n.from} has no shared key for me, so ${n.key} cannot be decrypted`);
    return unwrap(wrapped, `shared_key${n.from}`);
  };

  return async (n) => {
    const messageType = messageTypeOf(n);
    const out: AtNotification = {
      id: n.id,
      from: n.from,
      to: n.to,
      key: n.key,
      operation: n.operation === "delete" ? "delete" : "update",
      messageType,
      epochMillis: n.epochMillis,
      value: messageType === "text" ? textOf(n) : (n.value ?? null),
      isEncrypted: n.isEncrypted === true,
      metadata: n.metadata ?? null,
    };
    // Values of public keys and of the reserved shared_key records are not AES-encrypted, nor is plain text.
    // A key value that carries an ivNonce without being marked (the C SDK's shared data) is opened when it
    // decrypts and yielded as it came otherwise, as a get of it is.
    const sealed = messageType === "text" ? out.value : n.value;
    const ivNonce = metaString(n, "ivNonce");
    const unmarked = !out.isEncrypted && messageType === "key" && ivNonce !== undefined;
    if ((!out.isEncrypted && !unmarked) || sealed == null) return out;
    try {
      const key = await sharedKeyFor(n);
      const meta = { isEncrypted: out.isEncrypted, ...(ivNonce ? { ivNonce } : {}) };
      const clear = openSharedAsOwner(key, { key: n.key, data: sealed, meta });
      out.value = typeof clear === "string" ? clear : new TextDecoder().decode(clear);
      if (messageType === "text") out.key = `${n.to}:${out.value}`;
    } catch (e) {
      if (!(e instanceof AtClientError)) throw e;
      if (unmarked) return out;
      out.value = null;
      out.decryptError = e.message;
    }
    return out;
  };
}
