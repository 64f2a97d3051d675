/**
 * Per-recipient shared keys (ATPROTOCOL.md §9): created once per recipient, stored twice on my server —
 * `shared_key.bob@alice` wrapped for my own public key, `@bob:shared_key@alice` wrapped for bob's — and
 * cached in memory for the life of the client (bounded).
 */
import type { Session } from "../connection/session.ts";
import { AtKeyNotFoundError } from "../errors.ts";
import { publicKeyChecksum } from "../../core/crypto/index.ts";
import { keyRefText } from "../../core/verbs/index.ts";
import { llookupAllLine, updateLine, type WireKey } from "./commands.ts";
import { parseRecord, type StoredRecord } from "./record.ts";
import { newSymmetricKey, unwrapMine, wrapFor, type SharedKey } from "./value_crypto.ts";

/** Most recipients whose shared key is kept in memory. */
export const SHARED_KEY_CACHE_MAX_ENTRIES = 1000;
/** Time to refresh of `@bob:shared_key@alice`, as the Dart client sets it (45 days, in seconds). */
export const SHARED_KEY_TTR = 3_888_000;

/** What the shared-key store needs from its client. */
export interface SharedKeyContext {
  me: string;
  session: Session;
  encryptionPublicKey: string;
  encryptionPrivateKey: string;
  /** The recipient's encryption public key (`public:publickey@bob`). */
  publicKeyOf(atSign: string): Promise<string>;
}

/** Creates the store; `forRecipient` returns (and on first use creates) the shared key for an @sign. */
export function sharedKeyStore(ctx: SharedKeyContext): { forRecipient(atSign: string): Promise<SharedKey>; ownKey(atSign: string): Promise<string | null> } {
  const cache = new Map<string, SharedKey>();
  const inFlight = new Map<string, Promise<SharedKey>>();
  const myCopy = (atSign: string) => ({ name: `shared_key.${atSign.slice(1)}`, owner: ctx.me });
  const recipientCopy = (atSign: string) => ({ sharedWith: atSign, name: "shared_key", owner: ctx.me });

  async function readStored(key: WireKey & { owner: string }): Promise<StoredRecord | null> {
    try {
      return parseRecord(await ctx.session.send(llookupAllLine(key)), keyRefText(key));
    } catch (e) {
      if (e instanceof AtKeyNotFoundError) return null;
      throw e;
    }
  }

  async function readMyCopy(atSign: string): Promise<string | null> {
    const wrapped = await readStored(myCopy(atSign));
    return wrapped === null ? null : unwrapMine(ctx.encryptionPrivateKey, wrapped.data, keyRefText(myCopy(atSign)));
  }

  async function load(atSign: string): Promise<SharedKey> {
    const recipientPublicKey = await ctx.publicKeyOf(atSign);
    const checksum = publicKeyChecksum(recipientPublicKey);
    let key = await readMyCopy(atSign);
    // RSA wrapping is randomised, so an existing recipient copy is reused rather than re-wrapped, unless
    // it records (pubKeyCS) that it was wrapped for a public key the recipient no longer has.
    const stored = key === null ? null : await readStored(recipientCopy(atSign));
    let wrappedForRecipient = stored && (stored.meta.pubKeyCS ?? checksum) === checksum ? stored.data : null;
    if (key === null) {
      key = newSymmetricKey();
      await ctx.session.send(updateLine(myCopy(atSign), wrapFor(ctx.encryptionPublicKey, key)));
    }
    if (wrappedForRecipient === null) {
      wrappedForRecipient = wrapFor(recipientPublicKey, key);
      const meta = { ttr: SHARED_KEY_TTR, isEncrypted: false, pubKeyCS: checksum };
      await ctx.session.send(updateLine(recipientCopy(atSign), wrappedForRecipient, meta));
    }
    const shared = { key, wrappedForRecipient, recipientPublicKey };
    if (cache.size >= SHARED_KEY_CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(atSign, shared);
    return shared;
  }

  return {
    forRecipient(atSign) {
      const hit = cache.get(atSign);
      if (hit) return Promise.resolve(hit);
      let p = inFlight.get(atSign);
      if (!p) {
        p = load(atSign).finally(() => inFlight.delete(atSign));
        inFlight.set(atSign, p);
      }
      return p;
    },
    async ownKey(atSign) {
      return cache.get(atSign)?.key ?? readMyCopy(atSign);
    },
  };
}
