/**
 * `config:block:add|remove|show` (ATPROTOCOL.md §5.14): the block list, stored as a JSON array in
 * `private:blocklist@<me>`. `from:` of a blocked @sign is refused with AT0013. `config:set|reset|print` exist
 * only in the reference's testing mode, which we do not have.
 */
import { normalizeAtSign } from "../../core/atsign.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import type { ServerContext } from "../context.ts";
import { freshMeta } from "../server_keys.ts";
import { data, type HandlerTable } from "./handler.ts";

/** Most @signs a block list holds (the value must stay a reasonable single line). */
export const BLOCK_LIST_MAX_ATSIGNS = 10_000;

const blockListKey = (ctx: ServerContext) => `private:blocklist${ctx.atSign}`;

function readBlockList(ctx: ServerContext): string[] {
  const v = ctx.keystore.get(blockListKey(ctx))?.value;
  if (!v) return [];
  try {
    const list = JSON.parse(v) as unknown;
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

function writeBlockList(ctx: ServerContext, list: string[]): void {
  const key = blockListKey(ctx);
  const old = ctx.keystore.get(key);
  const meta = old ? { ...old.meta, updatedAt: Date.now(), version: old.meta.version + 1 } : freshMeta(ctx.atSign);
  ctx.keystore.put({ key, value: JSON.stringify(list), meta }, "+");
}

/** Whether `atSign` (canonical) is on the block list. */
export function isBlocked(ctx: ServerContext, atSign: string): boolean {
  return atSign !== ctx.atSign && readBlockList(ctx).includes(atSign);
}

function canonical(list: string[]): string[] {
  try {
    return list.map(normalizeAtSign);
  } catch (err) {
    throw new AtProtocolError("AT0003", `Invalid syntax. ${(err as Error).message}`);
  }
}

/** Handlers of the config family. */
export const configHandlers: HandlerTable = {
  config(ctx, _conn, cmd) {
    switch (cmd.operation) {
      case "blockShow": {
        const list = readBlockList(ctx);
        return data(list.length === 0 ? null : JSON.stringify(list));
      }
      case "blockAdd": {
        const list = readBlockList(ctx);
        for (const a of canonical(cmd.atSigns)) if (a !== ctx.atSign && !list.includes(a)) list.push(a);
        if (list.length > BLOCK_LIST_MAX_ATSIGNS) throw new AtProtocolError("AT0022", `A block list holds at most ${BLOCK_LIST_MAX_ATSIGNS} @signs`);
        writeBlockList(ctx, list);
        return data("success");
      }
      case "blockRemove": {
        const drop = new Set(canonical(cmd.atSigns));
        writeBlockList(ctx, readBlockList(ctx).filter((a) => !drop.has(a)));
        return data("success");
      }
      default:
        return data("testing mode disabled by default");
    }
  },
};
