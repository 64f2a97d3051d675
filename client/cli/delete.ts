/** `delete KEY`: removes one of my keys. */
import { UsageError } from "../../core/options.ts";
import { COMMON_SPEC, emit, openClient, type CliCommand } from "./command.ts";

/** The delete command. */
export const del: CliCommand<typeof COMMON_SPEC> = {
  name: "delete",
  usage: "bun client.ts delete KEY",
  spec: COMMON_SPEC,
  async run(o, args, io) {
    if (args.length !== 1) throw new UsageError("delete needs exactly one KEY");
    const client = await openClient(o);
    try {
      // The server answers a delete of a missing key with a new commit id; check first to report "not found".
      if (!(await client.exists(args[0]!))) {
        io.err(`Not found: ${args[0]} (see \`scan\` for the keys that exist)`);
        return 1;
      }
      await client.delete(args[0]!);
    } finally {
      client.close();
    }
    emit(io, o.json, { deleted: args[0] }, null);
    return 0;
  },
};
