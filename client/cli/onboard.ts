/** `onboard @alice --cram SECRET`: first-time setup of an @sign on this device. */
import { requireHostPort } from "../../core/host_port.ts";
import { atSignSchema } from "../../core/atsign.ts";
import { UsageError } from "../../core/options.ts";
import { AtClient } from "../at_client.ts";
import { COMMON_SPEC, emit, readStdin, type CliCommand } from "./command.ts";

/** Longest CRAM secret read from stdin (the reference uses 128 hex characters). */
export const MAX_CRAM_SECRET_BYTES = 4096;

const spec = {
  cram: { kind: "string", help: "the CRAM secret from the server (`-` reads it from stdin)", arg: "SECRET", env: false },
  pkamAlgo: { kind: "string", help: "PKAM key type: rsa2048, ecc_secp256r1 or ed25519", arg: "ALGO", default: "rsa2048" },
  overwrite: { kind: "boolean", help: "replace an existing .atKeys file", default: false },
} as const;

/** The onboard command. */
export const onboard: CliCommand<typeof spec & typeof COMMON_SPEC> = {
  name: "onboard",
  usage: "bun client.ts onboard @SIGN --cram SECRET [--keys FILE]",
  spec: { ...COMMON_SPEC, ...spec },
  async run(o, args, io) {
    const atSign = atSignSchema.safeParse(args[0] ?? o.as ?? "");
    if (!atSign.success) throw new UsageError("onboard needs the @sign: bun client.ts onboard @alice --cram SECRET");
    let secret = o.cram;
    if (secret === "-") secret = new TextDecoder().decode(await readStdin(io, MAX_CRAM_SECRET_BYTES)).trim();
    if (!secret) throw new UsageError("onboard needs --cram SECRET (the CRAM secret your atServer printed at first start)");
    if (!["rsa2048", "ecc_secp256r1", "ed25519"].includes(o.pkamAlgo)) throw new UsageError(`Unknown --pkam-algo ${o.pkamAlgo}`);
    const { client, keysFile } = await AtClient.onboard(atSign.data, secret, {
      directory: o.directory,
      ...(o.ca ? { caFile: o.ca } : {}),
      ...(o.keys ? { keysFile: o.keys } : {}),
      ...(o.keysDir ? { keysDir: o.keysDir } : {}),
      ...(o.server ? { address: requireHostPort(o.server, "--server") } : {}),
      pkamAlgo: o.pkamAlgo as "rsa2048",
      overwrite: o.overwrite,
    });
    client.close();
    emit(io, o.json, { atSign: atSign.data, keysFile }, `Onboarded ${atSign.data}; keys written to ${keysFile}\n`);
    return 0;
  },
};
