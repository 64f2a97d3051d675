/**
 * The shape every verb handler has: `(ctx, conn, cmd) → Reply`. The dispatcher adds the prompt (after the
 * handler ran, so an auth verb's reply already carries the new prompt).
 */
import type { Command, CommandOf, VerbName } from "../../core/verbs/command.ts";
import type { Connection } from "../connection.ts";
import type { ServerContext } from "../context.ts";

/** What a handler answers; errors are thrown as AtProtocolError. */
export type Reply =
  /** `data:<payload>` (`data:null` for null). */
  | { kind: "data"; payload: string | null }
  /** `data: <payload>` (stats, notify:all). */
  | { kind: "dataSpace"; payload: string }
  /** Bytes written as they are, with no prompt (the `pol` answer). */
  | { kind: "raw"; text: string }
  /** Nothing is written (monitor). */
  | { kind: "none" };

/** A handler for the verbs `V`. */
export type Handler<V extends VerbName = VerbName> = (ctx: ServerContext, conn: Connection, cmd: CommandOf<V>) => Reply | Promise<Reply>;

/** `data:<payload>`. */
export const data = (payload: string | null): Reply => ({ kind: "data", payload });

/** Handlers by verb tag (each family file exports its part). */
export type HandlerTable = { [V in VerbName]?: Handler<V> };

/** Runs the handler of `cmd.verb` from `table` (the caller checked that one exists). */
export function runHandler(table: HandlerTable, ctx: ServerContext, conn: Connection, cmd: Command): Reply | Promise<Reply> {
  const h = table[cmd.verb] as Handler | undefined;
  if (!h) throw new TypeError(`Cannot dispatch ${cmd.verb}: no handler`);
  return h(ctx, conn, cmd);
}

/**
 * Handlers of `verbs` from a module loaded at their first call: a family few connections use (enroll, otp, to,
 * notify:multi) stays out of what every atServer parses at start (idle RSS, issue 2). Its answers come as
 * promises, which the dispatcher and listener already keep in line order.
 * @example lazyHandlers(["otp"], async () => (await import("./otp.ts")).otpHandlers)
 */
export function lazyHandlers(verbs: readonly VerbName[], load: () => Promise<HandlerTable>): HandlerTable {
  let loaded: Promise<HandlerTable> | undefined;
  const table: HandlerTable = {};
  for (const verb of verbs) {
    const lazy: Handler = async (ctx, conn, cmd) => runHandler(await (loaded ??= load()), ctx, conn, cmd);
    (table as Record<VerbName, Handler>)[verb] = lazy;
  }
  return table;
}
