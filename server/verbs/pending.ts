/**
 * Verbs whose features have not arrived yet: they answer a precise error, never silence. (notify, monitor,
 * pol, enroll, otp and keys started here and now have their own families.)
 */
import { AtProtocolError } from "../../core/wire/index.ts";
import type { HandlerTable } from "./handler.ts";

/** Handlers of the verbs that are not implemented yet. */
export const pendingHandlers: HandlerTable = {
  stream: () => {
    // Legacy file streaming is unused by current SDK flows (ATPROTOCOL.md §5.16).
    throw new AtProtocolError("AT0003", "invalid command: stream is not available on this server");
  },
};
