/**
 * What follows a successful owner write (ATPROTOCOL.md §6.1, §7.3): a stats notification to the monitors
 * (value = the commit id the write returned) and, for a key shared with another @sign, the notification that
 * tells that @sign's server (the reference's autoNotify; it carries the value when ttr asks the receiver to
 * cache it, and a delete lets it cascade-delete its copy).
 */
import type { KeyRef } from "../../core/verbs/command.ts";
import type { ServerContext } from "../context.ts";
import { storageKey } from "../key_policy.ts";
import type { Handler, HandlerTable, Reply } from "../verbs/handler.ts";
import { notifyOnSharedWrite } from "./notify_service.ts";

type WriteVerb = "update" | "updateMeta" | "delete";

function after(ctx: ServerContext, key: string, op: "update" | "delete", r: Reply): Reply {
  const svc = ctx.notify;
  if (!svc || r.kind !== "data" || r.payload === null || !/^-?\d+$/.test(r.payload)) return r;
  svc.hub.publishStats(Number(r.payload), op);
  notifyOnSharedWrite(ctx, key, op);
  return r;
}

function hook<V extends WriteVerb>(inner: Handler<V> | undefined, op: "update" | "delete"): Handler<V> | undefined {
  if (!inner) return undefined;
  return (ctx, conn, cmd) => {
    const r = inner(ctx, conn, cmd);
    const key = storageKey((cmd as { key: KeyRef }).key, ctx.atSign);
    return r instanceof Promise ? r.then((x) => after(ctx, key, op, x)) : after(ctx, key, op, r);
  };
}

/**
 * The update family's handlers with those follow-ups added.
 * @example const table = { ...withWriteHooks(updateHandlers) };
 */
export function withWriteHooks(handlers: HandlerTable): HandlerTable {
  return {
    ...handlers,
    update: hook(handlers.update, "update"),
    updateMeta: hook(handlers.updateMeta, "update"),
    delete: hook(handlers.delete, "delete"),
  };
}
