/**
 * What follows a successful owner write (ATPROTOCOL.md §6.1, §7.3): a stats notification to the monitors
 * (value = the commit id the write returned) and, for a key shared with another @sign, the notification that
 * tells that @sign's server (the reference's autoNotify: `update` and `update:json` send the value, so the
 * recipient's monitor gets it; a delete lets the recipient cascade-delete its cached copy).
 */
import type { CommandOf, KeyRef } from "../../core/verbs/command.ts";
import type { ServerContext } from "../context.ts";
import { storageKey } from "../key_policy.ts";
import type { Handler, HandlerTable, Reply } from "../verbs/handler.ts";
import { updateJsonKey } from "../verbs/update.ts";
import { notifyOnSharedWrite } from "./notify_service.ts";

type WriteVerb = "update" | "updateJson" | "updateMeta" | "delete";

/** How a write verb names its key, what it did, and whether it wrote a value the notification carries. */
interface WriteKind<V extends WriteVerb> {
  op: "update" | "delete";
  withValue: boolean;
  keyOf(ctx: ServerContext, cmd: CommandOf<V>): string;
}

const byRef = (ctx: ServerContext, cmd: { key: KeyRef }) => storageKey(cmd.key, ctx.atSign);

function after(ctx: ServerContext, key: string, kind: Omit<WriteKind<WriteVerb>, "keyOf">, r: Reply): Reply {
  const svc = ctx.notify;
  if (!svc || r.kind !== "data" || r.payload === null || !/^-?\d+$/.test(r.payload)) return r;
  // A `:nc` write (-1) made no commit: there is no new commit id to tell the monitors about.
  if (r.payload !== "-1") svc.hub.publishStats(Number(r.payload), kind.op);
  notifyOnSharedWrite(ctx, key, kind.op, kind.withValue);
  return r;
}

function hook<V extends WriteVerb>(inner: Handler<V> | undefined, kind: WriteKind<V>): Handler<V> | undefined {
  if (!inner) return undefined;
  return (ctx, conn, cmd) => {
    const r = inner(ctx, conn, cmd);
    const key = kind.keyOf(ctx, cmd);
    return r instanceof Promise ? r.then((x) => after(ctx, key, kind, x)) : after(ctx, key, kind, r);
  };
}

/**
 * The update family's handlers with those follow-ups added.
 * @example const table = { ...withWriteHooks(updateHandlers) };
 */
export function withWriteHooks(handlers: HandlerTable): HandlerTable {
  return {
    ...handlers,
    update: hook(handlers.update, { op: "update", withValue: true, keyOf: byRef }),
    updateJson: hook(handlers.updateJson, { op: "update", withValue: true, keyOf: (ctx, cmd) => updateJsonKey(ctx, cmd.body) }),
    updateMeta: hook(handlers.updateMeta, { op: "update", withValue: false, keyOf: byRef }),
    delete: hook(handlers.delete, { op: "delete", withValue: false, keyOf: byRef }),
  };
}
