/** `scan [REGEX]`: lists my keys. */
import { UsageError } from "../../core/options.ts";
import { COMMON_SPEC, emit, openClient, type CliCommand } from "./command.ts";

/** The scan command. */
export const scan: CliCommand<typeof COMMON_SPEC> = {
  name: "scan",
  usage: "bun client.ts scan [REGEX]",
  spec: COMMON_SPEC,
  async run(o, args, io) {
    if (args.length > 1) throw new UsageError("scan takes at most one REGEX");
    const client = await openClient(o);
    let keys: string[];
    try {
      keys = await client.scan(args[0]);
    } finally {
      client.close();
    }
    emit(io, o.json, keys, keys.map((k) => k + "\n").join(""));
    return 0;
  },
};
