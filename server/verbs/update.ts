/**
 * `update`, `update:meta`, `update:json`, `delete` (ATPROTOCOL.md §5.4–§5.6). Every acknowledged write is
 * committed to sqlite before the commit id goes back.
 */
import type { KeyRef, MetadataPatch } from "../../core/verbs/command.ts";
import { AT_METADATA_TEXT_FIELDS, isAppMetadata, metadataFieldsOf } from "../../core/verbs/index.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import { CRAM_SECRET_KEY } from "../auth.ts";
import type { ServerContext } from "../context.ts";
import { checkKeyLength, checkUpdatableKey, isProtectedKey } from "../../core/keys/index.ts";
import { storageKey } from "../key_policy.ts";
import { applyMetadata, assertedMillis, patchIsEmpty } from "../metadata.ts";
import { CRAM_SECRET_DELETED_KEY, freshMeta } from "../server_keys.ts";
import type { CommitOptions, StoredRecord } from "../store/keystore.ts";
import { data, type HandlerTable } from "./handler.ts";

/** Writes the record; `:nc` purges the key's commit entry instead, and an asserted updatedAt is the entry's time. */
function stored(ctx: ServerContext, record: StoredRecord, op: "+" | "#" | "*", noCommit: boolean | undefined, patch: MetadataPatch): number {
  const opts: CommitOptions = noCommit ? { commit: "purge" } : patch.uAt ? { opTime: record.meta.updatedAt } : {};
  const id = ctx.keystore.put(record, op, opts);
  if (record.meta.expiresAt !== undefined) ctx.expiryChanged(record.meta.expiresAt);
  return id;
}

/**
 * The stored record a write builds on: none when it has expired (as good as gone, so the write inherits nothing
 * from it, as the reference since 3.16.2), AT0009 when it is immutable.
 */
function mutableRecord(ctx: ServerContext, key: string, now = Date.now()): StoredRecord | null {
  const old = ctx.keystore.get(key);
  if (!old || (old.meta.expiresAt !== undefined && old.meta.expiresAt <= now)) return null;
  if (old.meta.immutable) throw new AtProtocolError("AT0009", `${key} is immutable and cannot be updated`);
  return old;
}

/** The stored key an `update:json` body names (the write hooks need it too). */
export function updateJsonKey(ctx: ServerContext, body: { atKey: string; sharedBy?: string; sharedWith?: string; metadata?: Record<string, unknown> }): string {
  const ref: KeyRef = { name: body.atKey, owner: body.sharedBy ?? ctx.atSign };
  if (body.metadata?.isPublic === true) ref.isPublic = true;
  else if (body.sharedWith) ref.sharedWith = body.sharedWith;
  return storageKey(ref, ctx.atSign);
}

// What an update:json body's AtMetaData may set, by JSON type (from the one metadata table); pubKeyHash is the
// object `{hash, hashingAlgo}` there, and appMetadata must be what at_commons writes.
const JSON_NUMBERS = metadataFieldsOf("int");
const JSON_BOOLEANS = metadataFieldsOf("bool");
const JSON_TEXTS = AT_METADATA_TEXT_FIELDS;

/** The metadata of an `update:json` body (AtMetaData JSON) as a patch; fields of the wrong type are ignored. */
function patchFromJson(m: Record<string, unknown>): MetadataPatch {
  const patch: MetadataPatch = {};
  for (const f of JSON_NUMBERS) if (typeof m[f] === "number" && Number.isSafeInteger(m[f])) patch[f] = m[f] as number;
  for (const f of JSON_BOOLEANS) if (typeof m[f] === "boolean") patch[f] = m[f] as boolean;
  for (const f of JSON_TEXTS) if (typeof m[f] === "string") patch[f] = m[f] as string;
  const hash = m.pubKeyHash as { hash?: unknown; hashingAlgo?: unknown } | undefined;
  if (typeof hash?.hash === "string") patch.pubKeyHash = hash.hash;
  if (typeof hash?.hashingAlgo === "string") patch.hashingAlgo = hash.hashingAlgo;
  if (typeof m.appMetadata === "string" && isAppMetadata(m.appMetadata)) patch.appMetadata = m.appMetadata;
  return patch;
}

/** Handlers of the update family. */
export const updateHandlers: HandlerTable = {
  update(ctx, _conn, cmd) {
    const key = checkUpdatableKey(storageKey(cmd.key, ctx.atSign), ctx.atSign);
    const old = mutableRecord(ctx, key);
    const meta = applyMetadata(old?.meta ?? null, cmd.metadata, ctx.atSign);
    return data(String(stored(ctx, { key, value: cmd.value, meta }, patchIsEmpty(cmd.metadata) ? "+" : "*", cmd.noCommit, cmd.metadata)));
  },
  updateJson(ctx, _conn, cmd) {
    const key = checkUpdatableKey(updateJsonKey(ctx, cmd.body), ctx.atSign);
    const value = typeof cmd.body.value === "string" ? cmd.body.value : JSON.stringify(cmd.body.value ?? null);
    const old = mutableRecord(ctx, key);
    const patch = patchFromJson(cmd.body.metadata ?? {});
    const meta = applyMetadata(old?.meta ?? null, patch, ctx.atSign);
    return data(String(stored(ctx, { key, value, meta }, "*", cmd.noCommit, patch)));
  },
  updateMeta(ctx, _conn, cmd) {
    const key = checkUpdatableKey(storageKey(cmd.key, ctx.atSign), ctx.atSign);
    // Like the reference's putMeta, a missing key becomes a metadata-only record (value null).
    const old = mutableRecord(ctx, key);
    const meta = applyMetadata(old?.meta ?? null, cmd.metadata, ctx.atSign);
    return data(String(stored(ctx, { key, value: old?.value ?? null, meta }, "#", cmd.noCommit, cmd.metadata)));
  },
  delete(ctx, _conn, cmd) {
    const key = storageKey(cmd.key, ctx.atSign);
    checkKeyLength(key);
    if (!cmd.key.cached && isProtectedKey({ name: cmd.key.name, owner: cmd.key.owner ?? ctx.atSign }, ctx.atSign)) {
      throw new AtProtocolError("AT0009", `${key} is protected and cannot be deleted`);
    }
    // A cached copy is always its holder's to drop (the reference's rule).
    if (!cmd.key.cached && !cmd.force && ctx.keystore.get(key)?.meta.immutable) {
      throw new AtProtocolError("AT0009", `${key} is immutable: delete it with delete:force`);
    }
    const opTime = cmd.deletedAt === undefined ? undefined : assertedMillis("dAt", cmd.deletedAt);
    if (key === CRAM_SECRET_KEY) {
      ctx.keystore.put({ key: CRAM_SECRET_DELETED_KEY, value: "true", meta: freshMeta(ctx.atSign) }, "+");
    }
    return data(String(ctx.keystore.remove(key, cmd.noCommit ? { commit: "purge" } : opTime === undefined ? {} : { opTime })));
  },
};
