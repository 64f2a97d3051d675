/**
 * From a request line to the bytes of its answer: parse (core/verbs), check auth, run the verb family's
 * handler, then frame the reply with the prompt (core/wire). Errors become the reference's error forms; an
 * error that closes the connection is written first, then the socket is ended.
 */
import type { Command, VerbName } from "../core/verbs/command.ts";
import { parseCommand } from "../core/verbs/index.ts";
import { AtProtocolError, dataResponse, dataSpaceResponse, errorResponse, prompt } from "../core/wire/index.ts";
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";
import { checkCommandAccess } from "./enroll/grants.ts";
import { forgetEnrollmentConnection } from "./enroll/live_enrollments.ts";
import type { LineHandler } from "./listener.ts";
import { authHandlers } from "./verbs/auth.ts";
import { withWriteHooks } from "./notify/write_hooks.ts";
import { countAnswer, countFailure } from "./metrics/server_metrics.ts";
import { assertAllowed, configHandlers } from "./verbs/config.ts";
import { lazyHandlers, runHandler, type HandlerTable, type Reply } from "./verbs/handler.ts";
import { infoHandlers } from "./verbs/info.ts";
import { keysHandlers } from "./verbs/keys.ts";
import { lookupHandlers } from "./verbs/lookup.ts";
import { monitorHandlers } from "./verbs/monitor.ts";
import { notifyHandlers } from "./verbs/notify.ts";
import { pendingHandlers } from "./verbs/pending.ts";
import { polHandlers } from "./verbs/pol.ts";
import { scanHandlers } from "./verbs/scan.ts";
import { syncHandlers } from "./verbs/sync.ts";
import { updateHandlers } from "./verbs/update.ts";

/** Verbs that need an owner-authenticated connection (ATPROTOCOL.md §5.1). */
const OWNER_ONLY: ReadonlySet<VerbName> = new Set<VerbName>([
  "update", "updateJson", "updateMeta", "delete", "llookup", "plookup", "notify", "notifyMulti", "notifyList", "notifyFetch",
  "notifyRemove", "monitor", "syncFrom", "stats", "config", "batch", "otp", "keys",
]);

/** Owner verbs another server may use once pol-authenticated: deliver a notification, list what we sent it. */
const POL_ALLOWED: ReadonlySet<VerbName> = new Set<VerbName>(["notify", "notifyList"]);

const unauthenticated = () => new AtProtocolError("AT0401", "Command cannot be executed without auth");

/** Throws unless `conn` may run `verb`; a pol session of an @sign refused since it opened is closed. */
function checkAuth(ctx: ServerContext, conn: Connection, verb: VerbName): void {
  const s = conn.state;
  if (s.auth === "pol") assertAllowed(ctx, s.atSign);
  if (OWNER_ONLY.has(verb) && s.auth !== "owner" && !(s.auth === "pol" && POL_ALLOWED.has(verb))) throw unauthenticated();
}

/**
 * Verb families loaded at their first use (server/verbs/handler.ts lazyHandlers): enrollment, OTPs, `to` and
 * notify:multi are rare on a connection and were ~0.2 MiB of the idle RSS of every atServer. Exported for the test
 * that each names exactly the verbs its module handles.
 */
export const LAZY_FAMILIES = {
  enroll: lazyHandlers(["enroll"], async () => (await import("./verbs/enroll.ts")).enrollHandlers),
  otp: lazyHandlers(["otp"], async () => (await import("./verbs/otp.ts")).otpHandlers),
  to: lazyHandlers(["to"], async () => (await import("./verbs/to.ts")).toHandlers),
  notifyMulti: lazyHandlers(["notifyMulti"], async () => (await import("./verbs/notify_multi.ts")).notifyMultiHandlers),
} satisfies Record<string, HandlerTable>;

/** Creates the line handler of a server. */
export function newDispatcher(ctx: ServerContext): LineHandler {
  const table: HandlerTable = {
    ...authHandlers,
    ...withWriteHooks(updateHandlers),
    ...lookupHandlers,
    ...scanHandlers,
    ...syncHandlers,
    ...configHandlers,
    ...infoHandlers,
    ...pendingHandlers,
    ...notifyHandlers,
    ...LAZY_FAMILIES.notifyMulti,
    ...LAZY_FAMILIES.to,
    ...monitorHandlers,
    ...polHandlers,
    ...LAZY_FAMILIES.enroll,
    ...LAZY_FAMILIES.otp,
    ...keysHandlers,
    batch: async (c, conn, cmd) => {
      const out: unknown[] = [];
      for (const item of cmd.items) {
        try {
          const inner = parseCommand(item.command);
          if (inner.verb === "batch" || inner.verb === "exit" || inner.verb === "monitor") throw new AtProtocolError("AT0003", `${inner.verb} is not allowed inside a batch`);
          const r = await execute(c, conn, inner);
          out.push({ id: item.id, response: { data: r.kind === "data" || r.kind === "dataSpace" ? r.payload : null } });
        } catch (err) {
          // Like the reference, errors without an atProtocol code are left out of the answer.
          if (err instanceof AtProtocolError) out.push({ id: item.id, response: { error_code: err.code, error_message: err.message } });
        }
      }
      return { kind: "data", payload: JSON.stringify(out) };
    },
  };

  const execute = async (c: ServerContext, conn: Connection, cmd: Command): Promise<Reply> => {
    checkAuth(c, conn, cmd.verb);
    checkCommandAccess(c, conn, cmd);
    return await runHandler(table, c, conn, cmd);
  };

  const frame = (conn: Connection, r: Reply): string | null => {
    switch (r.kind) {
      case "data":
        return dataResponse(r.payload, prompt(conn.state));
      case "dataSpace":
        return dataSpaceResponse(r.payload, prompt(conn.state));
      case "raw":
        return r.text;
      case "none":
        return null;
    }
  };

  const fail = (conn: Connection, err: unknown): string | null => {
    if (!(err instanceof AtProtocolError)) throw err;
    const text = errorResponse(err, { state: conn.state, clientVersion: conn.clientVersion });
    if (!err.closes) return text;
    conn.write(text);
    conn.close();
    return null;
  };

  return {
    onClose(conn) {
      forgetEnrollmentConnection(conn);
    },
    handleLine(conn, line) {
      if (line.trim() === "") return prompt(conn.state);
      let cmd: Command;
      const startedMs = performance.now();
      try {
        cmd = parseCommand(line);
      } catch (err) {
        return fail(conn, countFailure(ctx.metrics, null, startedMs, err));
      }
      if (cmd.verb === "exit") {
        conn.close();
        return null;
      }
      // Most verbs answer synchronously; only those handlers that await pay for a promise.
      try {
        checkAuth(ctx, conn, cmd.verb);
        checkCommandAccess(ctx, conn, cmd);
        const r = runHandler(table, ctx, conn, cmd);
        if (!(r instanceof Promise)) return frame(conn, countAnswer(ctx.metrics, cmd, startedMs, r));
        return r.then(
          (reply) => frame(conn, countAnswer(ctx.metrics, cmd, startedMs, reply)),
          (err: unknown) => fail(conn, countFailure(ctx.metrics, cmd, startedMs, err)),
        );
      } catch (err) {
        return fail(conn, countFailure(ctx.metrics, cmd, startedMs, err));
      }
    },
  };
}
