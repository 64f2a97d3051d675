/**
 * `info`, `info:brief`, `info:mtls`, `info:mtlsbrief`, `noop` (ATPROTOCOL.md §5.15; the mtls forms at_server 3.9).
 */
import { AtProtocolError, NOOP_MAX_MS } from "../../core/wire/index.ts";
import type { ServerContext } from "../context.ts";
import { data, type HandlerTable } from "./handler.ts";
import { COMPATIBLE_SERVER_VERSION } from "./sync.ts";

/**
 * Features beyond the version that `info` lists by name, as the reference does: a client sends `notify:multi` only
 * to a server that lists `notify.multi`.
 */
const FEATURES = [{ name: "notify.multi", description: "One key notification to several atSigns: notify:multi" }];

/** `1 hours 2 minutes 3 seconds`, the reference's uptime wording. */
function uptimeWords(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 3600)} hours ${Math.floor((s % 3600) / 60)} minutes ${s % 60} seconds`;
}

/** The mtls fields: the chain itself, or (brief) when chain and key were loaded (at start; both together). */
function mtlsFields(ctx: ServerContext, brief: boolean): Record<string, string> {
  if (ctx.mtlsChain === undefined) return {};
  if (!brief) return { mtls_fullchain: ctx.mtlsChain };
  const loaded = new Date(ctx.startedAt).toISOString();
  return { mtls_fullchain_last_modified: loaded, mtls_privkey_last_modified: loaded };
}

/** Handlers of the info family. */
export const infoHandlers: HandlerTable = {
  info(ctx, _conn, cmd) {
    const uptime = Date.now() - ctx.startedAt;
    const version = COMPATIBLE_SERVER_VERSION;
    switch (cmd.mode) {
      case undefined:
        return data(JSON.stringify({ version, uptimeAsWords: uptimeWords(uptime), features: FEATURES }));
      case "brief":
        return data(JSON.stringify({ version, uptimeAsMillis: uptime, features: FEATURES }));
      case "mtls":
      case "mtlsbrief":
        return data(JSON.stringify({ version, ...mtlsFields(ctx, cmd.mode === "mtlsbrief") }));
    }
  },
  async noop(_ctx, _conn, cmd) {
    if (cmd.delayMs > NOOP_MAX_MS) throw new AtProtocolError("AT0022", `noop delay must be at most ${NOOP_MAX_MS} ms`);
    if (cmd.delayMs > 0) await Bun.sleep(cmd.delayMs);
    return data("ok");
  },
};
