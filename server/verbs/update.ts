/**
 * `update`, `update:meta`, `update:json`, `delete` (ATPROTOCOL.md §5.4–§5.6). Every acknowledged write is
 * committed to sqlite before the commit id goes back.
 */
import type { KeyRef, MetadataPatch } from "../../core/verbs/command.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import { CRAM_SECRET_KEY } from "../auth.ts";
import type { ServerContext } from "../context.ts";
import { checkKeyLength, checkUpdatableKey, isProtectedKey } from "../../core/keys/index.ts";
import { storageKey } from "../key_policy.ts";
import { applyMetadata, patchIsEmpty } from "../metadata.ts";
import { CRAM_SECRET_DELETED_KEY, freshMeta } from "../server_keys.ts";
import type { StoredRecord } from "../store/keystore.ts";
import { data, type HandlerTable } from "./handler.ts";

function stored(ctx: ServerContext, record: StoredRecord, op: "+" | "#" | "*"): number {
  const id = ctx.keystore.put(record, op);
  if (record.meta.expiresAt !== undefined) ctx.expiryChanged(record.meta.expiresAt);
  return id;
}

/** The stored key an `update:json` body names (the write hooks need it too). */
export function updateJsonKey(ctx: ServerContext, body: { atKey: string; sharedBy?: string; sharedWith?: string; metadata?: Record<string, unknown> }): string {
  const ref: KeyRef = { name: body.atKey, owner: body.sharedBy ?? ctx.atSign };
  if (body.metadata?.isPublic === true) ref.isPublic = true;
  else if (body.sharedWith) ref.sharedWith = body.sharedWith;
  return storageKey(ref, ctx.atSign);
}

const JSON_NUMBERS = ["ttl", "ttb", "ttr"] as const;
const JSON_BOOLEANS = ["ccd", "isBinary", "isEncrypted"] as const;
const JSON_TEXTS = ["dataSignature", "sharedKeyEnc", "pubKeyCS", "encoding", "encKeyName", "encAlgo", "ivNonce", "skeEncKeyName", "skeEncAlgo"] as const;

/** The metadata of an `update:json` body (AtMetaData JSON) as a patch; fields of the wrong type are ignored. */
function patchFromJson(m: Record<string, unknown>): MetadataPatch {
  const patch: MetadataPatch = {};
  for (const f of JSON_NUMBERS) if (typeof m[f] === "number" && Number.isSafeInteger(m[f])) patch[f] = m[f] as number;
  for (const f of JSON_BOOLEANS) if (typeof m[f] === "boolean") patch[f] = m[f] as boolean;
  for (const f of JSON_TEXTS) if (typeof m[f] === "string") patch[f] = m[f] as string;
  return patch;
}

/** Handlers of the update family. */
export const updateHandlers: HandlerTable = {
  update(ctx, _conn, cmd) {
    const key = checkUpdatableKey(storageKey(cmd.key, ctx.atSign), ctx.atSign);
    const old = ctx.keystore.get(key);
    const meta = applyMetadata(old?.meta ?? null, cmd.metadata, ctx.atSign);
    return data(String(stored(ctx, { key, value: cmd.value, meta }, patchIsEmpty(cmd.metadata) ? "+" : "*")));
  },
  updateJson(ctx, _conn, cmd) {
    const key = checkUpdatableKey(updateJsonKey(ctx, cmd.body), ctx.atSign);
    const value = typeof cmd.body.value === "string" ? cmd.body.value : JSON.stringify(cmd.body.value ?? null);
    const old = ctx.keystore.get(key);
    const meta = applyMetadata(old?.meta ?? null, patchFromJson(cmd.body.metadata ?? {}), ctx.atSign);
    return data(String(stored(ctx, { key, value, meta }, "*")));
  },
  updateMeta(ctx, _conn, cmd) {
    const key = checkUpdatableKey(storageKey(cmd.key, ctx.atSign), ctx.atSign);
    // Like the reference's putMeta, a missing key becomes a metadata-only record (value null).
    const old = ctx.keystore.get(key);
    const meta = applyMetadata(old?.meta ?? null, cmd.metadata, ctx.atSign);
    return data(String(stored(ctx, { key, value: old?.value ?? null, meta }, "#")));
  },
  delete(ctx, _conn, cmd) {
    const key = storageKey(cmd.key, ctx.atSign);
    checkKeyLength(key);
    if (!cmd.key.cached && isProtectedKey({ name: cmd.key.name, owner: cmd.key.owner ?? ctx.atSign }, ctx.atSign)) {
      throw new AtProtocolError("AT0009", `${key} is protected and cannot be deleted`);
    }
    if (key === CRAM_SECRET_KEY) {
      ctx.keystore.put({ key: CRAM_SECRET_DELETED_KEY, value: "true", meta: freshMeta(ctx.atSign) }, "+");
    }
    return data(String(ctx.keystore.remove(key)));
  },
};
