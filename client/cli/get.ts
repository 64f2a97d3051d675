/** `get KEY`: prints a value, decrypted and verified; bytes are written as they are. */
import { toBase64 } from "../../core/crypto/index.ts";
import { UsageError } from "../../core/options.ts";
import { COMMON_SPEC, emit, openClient, type CliCommand } from "./command.ts";

/** The get command. */
export const get: CliCommand<typeof COMMON_SPEC> = {
  name: "get",
  usage: "bun client.ts get KEY   (KEY: NAME | public:NAME[@OWNER] | @BOB:NAME | NAME@OWNER)",
  spec: COMMON_SPEC,
  async run(o, args, io) {
    if (args.length !== 1) throw new UsageError("get needs exactly one KEY");
    const client = await openClient(o);
    try {
      const r = await client.get(args[0]!);
      const binary = typeof r.value !== "string";
      const json = { key: r.key, value: binary ? toBase64(r.value as Uint8Array) : r.value, binary, meta: r.meta };
      emit(io, o.json, json, r.value);
    } finally {
      client.close();
    }
    return 0;
  },
};
