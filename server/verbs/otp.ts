/**
 * `otp:get[:ttl:<ms>]` and `otp:put:<spp>[:ttl:<ms>]` (ATPROTOCOL.md §8.3): passcodes a new device presents
 * with its enrollment request. Owner only; on APKAM connections the central grant check asks for `__manage`.
 */
import { AtProtocolError } from "../../core/wire/index.ts";
import { enrollmentLimits } from "../enroll/enrollment_limits.ts";
import { isPasscodeShaped, issueOtp, OTP_MAX_CHARS, putSpp } from "../enroll/otp_store.ts";
import { data, type HandlerTable } from "./handler.ts";

/** Handlers of the otp verb. */
export const otpHandlers: HandlerTable = {
  otp(ctx, _conn, cmd) {
    const limits = enrollmentLimits(ctx.enrollment);
    if (cmd.ttlMs !== undefined && (cmd.ttlMs <= 0 || cmd.ttlMs > limits.otpMaxTtlMs)) {
      throw new AtProtocolError("AT0022", `ttl must be between 1 and ${limits.otpMaxTtlMs} ms`);
    }
    if (cmd.operation === "get") return data(issueOtp(ctx, cmd.ttlMs ?? limits.otpDefaultTtlMs));
    if (!isPasscodeShaped(cmd.otp)) throw new AtProtocolError("AT0022", `A passcode has 6 to ${OTP_MAX_CHARS} letters, digits or _`);
    putSpp(ctx, cmd.otp, cmd.ttlMs);
    return data("ok");
  },
};
