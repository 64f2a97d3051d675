/**
 * `config:block|allow:add|remove|show` (ATPROTOCOL.md §5.14; the allow list is our extension): the access lists,
 * stored as JSON arrays in `private:blocklist@<me>` and `private:allowlist@<me>`. Another @sign is refused (AT0013,
 * connection closed) on `from:`, on `pol` and on every line of an open pol session when it is blocked, or when the
 * allow list is not empty and does not name it — so lists bind inbound notifications and lookups alike.
 * `config:set|reset|print` exist only in the reference's testing mode, which we do not have.
 */
import { normalizeAtSign } from "../../core/atsign.ts";
import type { GatekeeperOperation } from "../../core/verbs/command.ts";
import { accessListOf, type AccessListName } from "../../core/verbs/config.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import type { ServerContext } from "../context.ts";
import { changeRule, gateShow, quarantineSummary, rejectSender } from "../notify/gatekeeper.ts";
import { admitQuarantined } from "../notify/notify_service.ts";
import { freshMeta } from "../server_keys.ts";
import { data, type HandlerTable, type Reply } from "./handler.ts";

/** Most @signs one access list holds (the value must stay a reasonable single line). */
export const ACCESS_LIST_MAX_ATSIGNS = 10_000;

const listKey = (ctx: ServerContext, list: AccessListName) => `private:${list}list${ctx.atSign}`;

/** Parsed lists per server, so the per-line check of pol sessions reads memory, not sqlite. */
const cache = new WeakMap<ServerContext, Record<AccessListName, Set<string>>>();

function lists(ctx: ServerContext): Record<AccessListName, Set<string>> {
  let l = cache.get(ctx);
  if (!l) {
    l = { block: new Set(readList(ctx, "block")), allow: new Set(readList(ctx, "allow")) };
    cache.set(ctx, l);
  }
  return l;
}

function readList(ctx: ServerContext, list: AccessListName): string[] {
  const v = ctx.keystore.get(listKey(ctx, list))?.value;
  if (!v) return [];
  try {
    const parsed = JSON.parse(v) as unknown;
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

function writeList(ctx: ServerContext, list: AccessListName, atSigns: string[]): void {
  const key = listKey(ctx, list);
  const old = ctx.keystore.get(key);
  const meta = old ? { ...old.meta, updatedAt: Date.now(), version: old.meta.version + 1 } : freshMeta(ctx.atSign);
  ctx.keystore.put({ key, value: JSON.stringify(atSigns), meta }, "+");
  lists(ctx)[list] = new Set(atSigns);
}

/**
 * Why `atSign` (canonical) may not talk to this server as itself, or null when it may. The owner is never refused.
 * @example if (refusal(ctx, "@bob")) throw new AtProtocolError("AT0013", ...)
 */
export function refusal(ctx: ServerContext, atSign: string): string | null {
  if (atSign === ctx.atSign) return null;
  const { block, allow } = lists(ctx);
  if (block.has(atSign)) return `${atSign} is blocked`;
  if (allow.size > 0 && !allow.has(atSign)) return `${atSign} is not on the allow list`;
  return null;
}

/** Whether the allow list names `atSign` (the gatekeeper counts such an @sign as known). */
export function isAllowListed(ctx: ServerContext, atSign: string): boolean {
  return lists(ctx).allow.has(atSign);
}

/** Throws the reference's AT0013 (the connection closes) when `atSign` is refused. */
export function assertAllowed(ctx: ServerContext, atSign: string): void {
  const why = refusal(ctx, atSign);
  if (why) throw new AtProtocolError("AT0013", why, { closes: true });
}

function canonical(atSigns: string[]): string[] {
  try {
    return atSigns.map(normalizeAtSign);
  } catch (err) {
    throw new AtProtocolError("AT0003", `Invalid syntax. ${(err as Error).message}`);
  }
}

function addToList(ctx: ServerContext, name: AccessListName, atSigns: string[]): void {
  const list = [...lists(ctx)[name]];
  for (const a of canonical(atSigns)) if (a !== ctx.atSign && !list.includes(a)) list.push(a);
  if (list.length > ACCESS_LIST_MAX_ATSIGNS) throw new AtProtocolError("AT0022", `An access list holds at most ${ACCESS_LIST_MAX_ATSIGNS} @signs`);
  writeList(ctx, name, list);
}

/** `config:gatekeeper:...` (our extension, server/README.md "Gatekeeper"). */
function gatekeeper(ctx: ServerContext, op: GatekeeperOperation): Reply {
  if (!ctx.notify) throw new AtProtocolError("AT0010", "Notifications are not available on this server");
  const gate = ctx.notify.gate;
  switch (op.op) {
    case "show":
      return data(JSON.stringify(gateShow(gate)));
    case "quarantineList":
      return data(JSON.stringify(quarantineSummary(gate)));
    case "admit":
      return data(JSON.stringify({ released: admitQuarantined(ctx, canonical([op.atSign])[0]!) }));
    case "reject": {
      const [atSign] = canonical([op.atSign]);
      if (op.block) addToList(ctx, "block", [atSign!]);
      return data(JSON.stringify({ dropped: rejectSender(gate, atSign!) }));
    }
    default:
      changeRule(gate, op.op === "unknown" ? op : { ...op, atSigns: canonical(op.atSigns).filter((a) => a !== ctx.atSign) });
      return data("success");
  }
}

/** Handlers of the config family. */
export const configHandlers: HandlerTable = {
  config(ctx, _conn, cmd) {
    switch (cmd.operation) {
      case "blockShow":
      case "allowShow": {
        const list = [...lists(ctx)[accessListOf(cmd.operation)]];
        return data(list.length === 0 ? null : JSON.stringify(list));
      }
      case "blockAdd":
      case "allowAdd":
        addToList(ctx, accessListOf(cmd.operation), cmd.atSigns);
        return data("success");
      case "blockRemove":
      case "allowRemove": {
        const name = accessListOf(cmd.operation);
        const drop = new Set(canonical(cmd.atSigns));
        writeList(ctx, name, [...lists(ctx)[name]].filter((a) => !drop.has(a)));
        return data("success");
      }
      case "gatekeeper":
        return gatekeeper(ctx, cmd.gate);
      default:
        return data("testing mode disabled by default");
    }
  },
};
