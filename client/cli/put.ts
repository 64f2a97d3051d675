/** `put KEY VALUE`: stores a value (`-` reads it from stdin, binary-safe). */
import { UsageError } from "../../core/options.ts";
import { COMMON_SPEC, emit, openClient, readStdin, valueFromBytes, type CliCommand } from "./command.ts";

const spec = {
  ttl: { kind: "number", help: "expire after this many ms", arg: "MS", env: false },
  ttb: { kind: "number", help: "become readable after this many ms", arg: "MS", env: false },
  ttr: { kind: "number", help: "readers may cache it this long (-1 = forever)", arg: "N", env: false },
  ccd: { kind: "boolean", help: "delete cached copies when the key is deleted", env: false },
  binary: { kind: "boolean", help: "store stdin as bytes even when it is valid UTF-8", default: false, env: false },
} as const;

/** The put command. */
export const put: CliCommand<typeof spec & typeof COMMON_SPEC> = {
  name: "put",
  usage: "bun client.ts put KEY VALUE|-   (KEY: public:NAME | @BOB:NAME | NAME)",
  spec: { ...COMMON_SPEC, ...spec },
  async run(o, args, io) {
    const [key, raw] = args;
    if (!key || raw === undefined || args.length > 2) throw new UsageError("put needs KEY and VALUE (or - for stdin)");
    const value = raw === "-" ? valueFromBytes(await readStdin(io), o.binary) : raw;
    const client = await openClient(o);
    try {
      await client.put(key, value, {
        ...(o.ttl !== undefined && { ttl: o.ttl }),
        ...(o.ttb !== undefined && { ttb: o.ttb }),
        ...(o.ttr !== undefined && { ttr: o.ttr }),
        ...(o.ccd !== undefined && { ccd: o.ccd }),
      });
    } finally {
      client.close();
    }
    emit(io, o.json, { ok: true, key }, null);
    return 0;
  },
};
