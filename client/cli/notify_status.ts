/** `notify-status ID`: where a notification I sent is (queued, delivered, errored, expired). */
import { UsageError } from "../../core/options.ts";
import { COMMON_SPEC, EXIT, emit, openClient, type CliCommand } from "./command.ts";

/** The notify-status command. */
export const notifyStatus: CliCommand<typeof COMMON_SPEC> = {
  name: "notify-status",
  usage: "bun client.ts notify-status ID",
  spec: COMMON_SPEC,
  async run(o, args, io) {
    if (args.length !== 1) throw new UsageError("notify-status needs exactly one notification ID");
    const id = args[0]!;
    const client = await openClient(o);
    let status;
    try {
      status = await client.notifyStatus(id);
    } finally {
      client.close();
    }
    if (status === null) {
      io.err(`No notification ${id} on this atServer (unknown id, or removed)`);
      if (o.json) emit(io, true, { id, status: null }, null);
      return EXIT.notFound;
    }
    emit(io, o.json, { id, status }, status + "\n");
    return EXIT.ok;
  },
};
