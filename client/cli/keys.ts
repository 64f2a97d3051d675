/** `keys`: shows my public keys and where my .atKeys file is; no network. */
import { readAtKeysFile } from "../../core/crypto/index.ts";
import { UsageError } from "../../core/options.ts";
import { COMMON_SPEC, emit, keysFileFor, type CliCommand } from "./command.ts";

/** The keys command. */
export const keys: CliCommand<typeof COMMON_SPEC> = {
  name: "keys",
  usage: "bun client.ts keys",
  spec: COMMON_SPEC,
  async run(o, args, io) {
    if (args.length > 0) throw new UsageError("keys takes no arguments");
    const file = keysFileFor(o);
    const k = await readAtKeysFile(file);
    const info = { atSign: k.atSign, keysFile: file, pkamAlgo: k.pkamAlgo, pkamPublicKey: k.pkamPublicKey, encryptionPublicKey: k.encryptionPublicKey, ...(k.enrollmentId ? { enrollmentId: k.enrollmentId } : {}) };
    const text = [`atSign: ${info.atSign}`, `keysFile: ${file}`, `pkam (${k.pkamAlgo}): ${k.pkamPublicKey}`, `publickey${k.atSign}: ${k.encryptionPublicKey}`].join("\n") + "\n";
    emit(io, o.json, info, text);
    return 0;
  },
};
