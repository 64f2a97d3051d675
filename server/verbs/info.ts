/**
 * `info`, `info:brief`, `noop` (ATPROTOCOL.md §5.15).
 */
import { AtProtocolError, NOOP_MAX_MS } from "../../core/wire/index.ts";
import { data, type HandlerTable } from "./handler.ts";
import { COMPATIBLE_SERVER_VERSION } from "./sync.ts";

/** `1 hours 2 minutes 3 seconds`, the reference's uptime wording. */
function uptimeWords(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 3600)} hours ${Math.floor((s % 3600) / 60)} minutes ${s % 60} seconds`;
}

/** Handlers of the info family. */
export const infoHandlers: HandlerTable = {
  info(ctx, _conn, cmd) {
    const uptime = Date.now() - ctx.startedAt;
    const body = cmd.brief
      ? { version: COMPATIBLE_SERVER_VERSION, uptimeAsMillis: uptime }
      : { version: COMPATIBLE_SERVER_VERSION, uptimeAsWords: uptimeWords(uptime) };
    return data(JSON.stringify(body));
  },
  async noop(_ctx, _conn, cmd) {
    if (cmd.delayMs > NOOP_MAX_MS) throw new AtProtocolError("AT0022", `noop delay must be at most ${NOOP_MAX_MS} ms`);
    if (cmd.delayMs > 0) await Bun.sleep(cmd.delayMs);
    return data("ok");
  },
};
