/**
 * `llookup`, `lookup`, `plookup` (ATPROTOCOL.md §3.2, §5.7): which key each one reads in which connection
 * state, activity checks, and the public-data cache for other @signs.
 */
import { normalizeAtSign } from "../../core/atsign.ts";
import type { LookupOperation } from "../../core/verbs/command.ts";
import { lookupTarget } from "../../core/keys/index.ts";
import { AtProtocolError, VALUE_REFERENCE_MAX_DEPTH, type AuthState } from "../../core/wire/index.ts";
import type { ServerContext } from "../context.ts";
import { storageKey } from "../key_policy.ts";
import { isActive } from "../metadata.ts";
import { cachedMetaFromRemote, lookupAnswer, remoteAnswer } from "../format.ts";
import type { StoredRecord } from "../store/keystore.ts";
import { lookupSharedOfOther } from "../notify/shared_cache.ts";
import { assertGateAnswers } from "../notify/notify_service.ts";
import { data, type HandlerTable, type Reply } from "./handler.ts";

const notFound = (key: string) => new AtProtocolError("AT0015", `${key} does not exist in keystore`);

/** Prefix of a value that points at another key (`atsign://phone@alice`), resolved by `lookup` only. */
const VALUE_REFERENCE = "atsign://";

function readLocal(ctx: ServerContext, key: string, operation: LookupOperation | undefined, checkActive: boolean): Reply {
  const r = ctx.keystore.get(key);
  if (!r) throw notFound(key);
  if (checkActive && !isActive(r.meta)) return data(null);
  return data(lookupAnswer(operation, r));
}

function atSignOf(text: string): string {
  try {
    return normalizeAtSign(text);
  } catch (err) {
    throw new AtProtocolError("AT0016", (err as Error).message);
  }
}

/** Fresh when ttr is -1 or the refresh time is still ahead. */
function cacheIsFresh(r: StoredRecord, now = Date.now()): boolean {
  return isActive(r.meta, now) && (r.meta.ttr === -1 || (r.meta.refreshAt !== undefined && now <= r.meta.refreshAt));
}

/** Reads another @sign's public key through its server, using and refreshing `cached:public:<k>@<x>`. */
async function publicOfOther(ctx: ServerContext, name: string, owner: string, operation: LookupOperation | undefined, bypassCache: boolean): Promise<Reply> {
  const bare = name.toLowerCase().replace(/^public:/, "");
  const cacheKey = `cached:public:${bare}${owner}`;
  const cached = ctx.keystore.get(cacheKey);
  if (cached && !bypassCache && cacheIsFresh(cached)) return data(lookupAnswer(operation, cached));
  if (!ctx.remote) throw new AtProtocolError("AT0007", `Secondary server not found: this server has no directory to find ${owner}`);
  const remote = await ctx.remote.lookupPublic(bare, owner);
  const isPublicKey = bare === "publickey";
  if (!remote) {
    if (cached && !isPublicKey) ctx.keystore.remove(cacheKey);
    throw notFound(`public:${bare}${owner}`);
  }
  const meta = cachedMetaFromRemote(remote.metaData, ctx.atSign, cached?.meta ?? null, isPublicKey);
  if (meta) {
    ctx.keystore.put({ key: cacheKey, value: remote.data, meta }, "*");
    if (meta.expiresAt !== undefined) ctx.expiryChanged(meta.expiresAt);
  }
  return data(remoteAnswer(operation, `public:${bare}${owner}`, remote));
}

/**
 * Follows `atsign://<name>@<me>` values through up to VALUE_REFERENCE_MAX_DEPTH local keys, read with the same
 * visibility as the lookup itself. A reference that leaves this server, or a missing target, is returned as is.
 */
function resolveReferences(ctx: ServerContext, state: AuthState, reply: Reply): Reply {
  let current = reply;
  for (let depth = 0; depth < VALUE_REFERENCE_MAX_DEPTH; depth++) {
    if (current.kind !== "data" || !current.payload?.startsWith(VALUE_REFERENCE)) return current;
    const ref = current.payload.slice(VALUE_REFERENCE.length).trim().toLowerCase();
    const at = ref.lastIndexOf("@");
    if (at <= 0 || ref.slice(at) !== ctx.atSign) return current;
    const target = lookupTarget(state, ctx.atSign, ref.slice(0, at), ctx.atSign, false);
    const r = target?.kind === "local" ? ctx.keystore.get(target.key) : null;
    if (!r || !isActive(r.meta)) return current;
    current = data(r.value);
  }
  return current;
}

/** Handlers of the lookup family. */
export const lookupHandlers: HandlerTable = {
  llookup(ctx, _conn, cmd) {
    return readLocal(ctx, storageKey(cmd.key, ctx.atSign), cmd.operation, true);
  },
  async lookup(ctx, conn, cmd) {
    const owner = atSignOf(cmd.atSign);
    const name = cmd.name.toLowerCase();
    if (name.startsWith("public:") && conn.state.auth === "owner" && owner !== ctx.atSign) {
      return publicOfOther(ctx, name, owner, cmd.operation, cmd.bypassCache === true);
    }
    const target = lookupTarget(conn.state, ctx.atSign, name, owner, false);
    if (!target) throw new AtProtocolError("AT0401", "Command cannot be executed without auth");
    // The owner's lookup of its own "shared with self" key skips the activity check, like the reference.
    if (target.kind === "local") {
      if (conn.state.auth === "pol") assertGateAnswers(ctx, conn.state.atSign, target.key);
      const reply = readLocal(ctx, target.key, cmd.operation, conn.state.auth !== "owner");
      return cmd.operation === undefined ? resolveReferences(ctx, conn.state, reply) : reply;
    }
    // Shared data of another @sign: the cached copy, or that @sign's server over a pol session.
    return lookupSharedOfOther(ctx, target, cmd.operation, cmd.bypassCache === true);
  },
  plookup(ctx, conn, cmd) {
    const target = lookupTarget(conn.state, ctx.atSign, cmd.name.replace(/^public:/i, ""), atSignOf(cmd.atSign), true);
    if (!target) throw new AtProtocolError("AT0401", "Command cannot be executed without auth");
    if (target.kind === "local") return readLocal(ctx, target.key, cmd.operation, true);
    return publicOfOther(ctx, target.name, target.atSign, cmd.operation, cmd.bypassCache === true);
  },
};
