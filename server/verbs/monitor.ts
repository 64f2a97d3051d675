/**
 * `monitor` (ATPROTOCOL.md §5.11): no answer line; the connection starts receiving `notification: {json}\n`
 * lines (after a replay when `epochMillis` is given) and stays usable for other commands.
 */
import { AtProtocolError } from "../../core/wire/index.ts";
import type { HandlerTable } from "./handler.ts";

/** Handlers of the monitor verb. */
export const monitorHandlers: HandlerTable = {
  monitor(ctx, conn, cmd) {
    if (!ctx.notify) throw new AtProtocolError("AT0010", "Notifications are not available on this server");
    ctx.notify.hub.attach(conn, { regex: cmd.regex, selfNotifications: cmd.selfNotifications, epochMillis: cmd.epochMillis });
    return { kind: "none" };
  },
};
