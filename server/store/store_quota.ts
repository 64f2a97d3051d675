/**
 * A keystore with a ceiling on keys and bytes (hosting mode: one tenant cannot fill the disk the others share).
 * A write that would pass it is refused with AT0022 before anything is stored; deletes are always allowed, so a
 * full @sign can make room (sqlite reuses the pages they free, hence the count of pages in use).
 */
import { AtProtocolError } from "../../core/wire/index.ts";
import type { Keystore } from "./keystore.ts";

/** The ceiling of one @sign's keystore. */
export interface StoreQuota {
  /** Keys stored (every key, hidden and server-made ones included). */
  maxKeys: number;
  /** Bytes of sqlite pages in use (values, metadata, commit log). */
  maxBytes: number;
}

/** Writes between two recounts of the keys (a count reads every key name: amortised, it may overshoot by this). */
const RECOUNT_EVERY_WRITES = 64;

/**
 * `ks`, refusing puts past `quota` for `atSign`.
 * @example const keystore = withStoreQuota(openKeystore(path), "@alice", { maxKeys: 100_000, maxBytes: 256 << 20 });
 */
export function withStoreQuota(ks: Keystore, atSign: string, quota: StoreQuota): Keystore {
  let keys = ks.keys().length;
  let writes = 0;
  const full = (what: string) => new AtProtocolError("AT0022", `${atSign} has reached its storage quota (${what}); delete keys to make room`);
  return {
    ...ks,
    put(record, op, opts) {
      if (++writes % RECOUNT_EVERY_WRITES === 0) keys = ks.keys().length;
      const isNew = ks.get(record.key) === null;
      if (isNew && keys >= quota.maxKeys) throw full(`${quota.maxKeys} keys`);
      if (ks.usedBytes() + record.key.length + (record.value?.length ?? 0) > quota.maxBytes) throw full(`${quota.maxBytes} bytes`);
      const id = ks.put(record, op, opts);
      if (isNew) keys++;
      return id;
    },
    remove(key) {
      if (ks.get(key) !== null) keys--;
      return ks.remove(key);
    },
  };
}
