/** `otp`: a one-time passcode a new device enrolls with (`otp --spp CODE` sets the semi-permanent one). */
import { UsageError } from "../../core/options.ts";
import { newOtp, putSpp } from "../enroll/manage_enrollments.ts";
import { COMMON_SPEC, emit, openClient, type CliCommand } from "./command.ts";

const spec = {
  ttl: { kind: "number", help: "lifetime in milliseconds (OTP default: 5 minutes; SPP default: no expiry)", arg: "MS" },
  spp: { kind: "string", help: "set this semi-permanent passcode instead (6+ letters, digits or _)", arg: "CODE", env: false },
} as const;

/** The otp command. */
export const otp: CliCommand<typeof spec & typeof COMMON_SPEC> = {
  name: "otp",
  usage: "bun client.ts otp [--ttl MS] | otp --spp CODE [--ttl MS]",
  spec: { ...COMMON_SPEC, ...spec },
  async run(o, args, io) {
    if (args.length > 0) throw new UsageError("otp takes no arguments");
    if (o.ttl !== undefined && !(Number.isInteger(o.ttl) && o.ttl > 0)) throw new UsageError("--ttl must be a positive whole number of milliseconds");
    const client = await openClient(o);
    try {
      if (o.spp !== undefined) {
        await putSpp(client, o.spp, o.ttl);
        emit(io, o.json, { spp: "set" }, "Semi-permanent passcode set\n");
      } else {
        const code = await newOtp(client, o.ttl);
        emit(io, o.json, { otp: code }, code + "\n");
      }
    } finally {
      client.close();
    }
    return 0;
  },
};
