/** `notify @BOB:KEY [VALUE|-]` / `notify @BOB TEXT --text [--plain]`: sends a notification (text encrypted for @BOB unless --plain), prints its id. */
import { UsageError } from "../../core/options.ts";
import { COMMON_SPEC, emit, openClient, readStdin, type CliCommand } from "./command.ts";

const spec = {
  text: { kind: "boolean", help: "send a text message (encrypted for @BOB) instead of a key notification", default: false, env: false },
  plain: { kind: "boolean", help: "with --text: send the text UNENCRYPTED, readable on both atServers", default: false, env: false },
  ttln: { kind: "number", help: "the notification expires after this many ms", arg: "MS", env: false },
  id: { kind: "string", help: "notification id (default: a new UUID)", arg: "ID", env: false },
  delete: { kind: "boolean", help: "announce that the key was deleted (no value)", default: false, env: false },
} as const;

/** The notify command. */
export const notify: CliCommand<typeof spec & typeof COMMON_SPEC> = {
  name: "notify",
  usage: "bun client.ts notify @BOB:KEY[@ME] [VALUE|-]   |   bun client.ts notify @BOB TEXT|- --text [--plain]",
  spec: { ...COMMON_SPEC, ...spec },
  async run(o, args, io) {
    const [target, raw] = args;
    if (!target || args.length > 2) throw new UsageError("notify needs @BOB:KEY [VALUE] (or @BOB TEXT --text)");
    const colon = target.indexOf(":");
    const to = colon === -1 ? target : target.slice(0, colon);
    const fromStdin = async () => new TextDecoder("utf-8", { fatal: true }).decode(await readStdin(io));
    let key: string;
    let value: string | undefined;
    if (o.plain && !o.text) throw new UsageError("--plain goes with --text (key notification values are always encrypted)");
    if (o.text) {
      if ((colon === -1) === (raw === undefined)) throw new UsageError("notify --text needs @BOB TEXT (or @BOB:TEXT)");
      key = colon === -1 ? (raw === "-" ? (await fromStdin()).replace(/\r?\n$/, "") : raw!) : target.slice(colon + 1);
    } else {
      if (colon === -1) throw new UsageError(`notify needs @BOB:KEY, not "${target}"`);
      key = target.slice(colon + 1);
      value = raw === "-" ? await fromStdin() : raw;
    }
    const client = await openClient(o);
    let id: string;
    try {
      id = await client.notify(to, key, value, {
        ...(o.text ? { text: true } : {}),
        ...(o.plain ? { encrypt: false } : {}),
        ...(o.ttln !== undefined ? { ttln: o.ttln } : {}),
        ...(o.id !== undefined ? { id: o.id } : {}),
        ...(o.delete ? { operation: "delete" as const } : {}),
      });
    } finally {
      client.close();
    }
    emit(io, o.json, { id, to }, id + "\n");
    return 0;
  },
};
