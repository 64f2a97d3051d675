/**
 * Verbs whose features arrive with later issues (notifications, monitor, enrollment, OTP, keys, stream).
 * Each answers what the reference answers when that feature holds no data, or a precise error — never silence.
 */
import { notifyFetchMissingJson } from "../../core/verbs/index.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import { data, type HandlerTable } from "./handler.ts";

const notYet = (what: string) => new AtProtocolError("AT0003", `invalid command: ${what} is not available on this server yet`);

/** Handlers of the verbs that are not implemented yet. */
export const pendingHandlers: HandlerTable = {
  notify: () => {
    throw notYet("notify");
  },
  notifyAll: () => {
    throw notYet("notify:all");
  },
  // With an empty notification store the reference answers these as follows.
  notifyStatus: () => data(null),
  notifyList: () => data(null),
  notifyFetch: (_ctx, _conn, cmd) => data(notifyFetchMissingJson(cmd.id)),
  notifyRemove: () => data("success"),
  monitor: () => {
    throw notYet("monitor");
  },
  enroll: (_ctx, _conn, cmd) => {
    if (cmd.operation === "request") throw new AtProtocolError("AT0011", "invalid otp. Cannot process enroll request", { closes: false });
    throw new AtProtocolError("AT0028", `enrollment_id: ${cmd.params?.enrollmentId ?? ""} is expired or invalid`, { form: "handler" });
  },
  otp: () => {
    throw notYet("otp");
  },
  keys: () => {
    // The reference's answer on any connection that did not authenticate with an enrollment.
    throw new AtProtocolError("AT0011", "keys verb requires an APKAM (enrollment) authenticated connection", { closes: false });
  },
  stream: () => {
    throw notYet("stream");
  },
};
