/**
 * `notify:multi`: one key notification, one value and its metadata, to each of several @signs; the answer maps
 * each (normalised, named once) recipient to its notification id.
 */
import { normalizeAtSign } from "../../core/atsign.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import { assertGateSends, sendNotification } from "../notify/notify_service.ts";
import { data, type HandlerTable } from "./handler.ts";
import { NOTIFY_ALL_MAX_RECIPIENTS } from "./notify.ts";

/** The recipients, normalised and each named once in the order first named; AT0003 for one that is no @sign. */
function recipientsOf(list: readonly string[]): string[] {
  const out = new Set<string>();
  for (const r of list) {
    try {
      out.add(normalizeAtSign(r));
    } catch (err) {
      throw new AtProtocolError("AT0003", `Invalid syntax. ${(err as Error).message}`);
    }
  }
  if (out.size > NOTIFY_ALL_MAX_RECIPIENTS) throw new AtProtocolError("AT0022", `notify:multi takes at most ${NOTIFY_ALL_MAX_RECIPIENTS} recipients`);
  return [...out];
}

/** Handlers of notify:multi. */
export const notifyMultiHandlers: HandlerTable = {
  notifyMulti(ctx, _conn, cmd) {
    const ids: Record<string, string> = {};
    const recipients = recipientsOf(cmd.recipients);
    for (const to of recipients) assertGateSends(ctx, to, { messageType: "key", key: cmd.atKey });
    for (const forAtSign of recipients) {
      ids[forAtSign] = sendNotification(ctx, {
        verb: "notify",
        messageType: "key",
        metadata: cmd.metadata,
        forAtSign,
        atKey: cmd.atKey,
        atSign: cmd.atSign,
        ...(cmd.operation ? { operation: cmd.operation } : {}),
        ...(cmd.ttln === undefined ? {} : { ttln: cmd.ttln }),
        ...(cmd.value === undefined ? {} : { value: cmd.value }),
      });
    }
    return data(JSON.stringify(ids));
  },
};
