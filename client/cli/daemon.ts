/**
 * `daemon --as @device --permit HOST:PORT … --allow @bob …`: serves tunnel requests until SIGINT/SIGTERM.
 * The allow list can also come from `--allow-file` (one @sign per line), re-read when it changes or on SIGHUP;
 * an @sign removed from it loses its live tunnels at once.
 */
import { readFileSync, statSync } from "node:fs";
import { atSignSchema, normalizeAtSign } from "../../core/atsign.ts";
import { UsageError, type OptionSpec } from "../../core/options.ts";
import { type Daemon, startDaemon } from "../tunnel/daemon.ts";
import { parsePermit } from "../tunnel/permits.ts";
import { COMMON_SPEC, type CliCommand } from "./command.ts";
import { endpointFor, untilSignal } from "./tunnel_common.ts";

/** How often --allow-file is checked for changes. */
export const ALLOW_FILE_POLL_MS = 1_000;

const spec = {
  ...COMMON_SPEC,
  name: { kind: "string", help: "device name (several daemons may share one @sign)", default: "default", arg: "NAME" },
  permit: { kind: "list", help: "HOST:PORT a tunnel may reach (either part may be *); repeat or comma-separate", arg: "HOST:PORT", default: [] },
  allow: { kind: "list", help: "@signs that may open tunnels; repeat or comma-separate", arg: "@SIGN", default: [] },
  allowFile: { kind: "string", help: "file with more allowed @signs, one per line, re-read when it changes and on SIGHUP", arg: "FILE" },
} as const satisfies OptionSpec;

/** The daemon command. */
export const daemon: CliCommand<typeof spec> = {
  name: "daemon",
  usage: "bun client.ts daemon --as @device --permit 127.0.0.1:22 --allow @bob [--name NAME] [--allow-file FILE]",
  spec,
  async run(o, args, io) {
    if (args.length > 0) throw new UsageError(`daemon takes no arguments (got "${args[0]}")`);
    if (!/^[a-z0-9_][a-z0-9_-]{0,35}$/.test(o.name)) throw new UsageError(`Invalid --name "${o.name}": lower-case letters, digits, _ and -, at most 36`);
    if (o.permit.length === 0) throw new UsageError("daemon needs at least one --permit HOST:PORT");
    let permits;
    try {
      permits = o.permit.map(parsePermit);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const readAllow = () => [...o.allow, ...(o.allowFile ? allowFileEntries(o.allowFile) : [])].map(checkedAtSign);
    const allow = readAllow();
    if (allow.length === 0) throw new UsageError("daemon needs at least one --allow @SIGN (or --allow-file)");
    let d: Daemon | null = null;
    const endpoint = await endpointFor(o, o.name, (from, sid, reason) => d?.rejected(from, sid, reason));
    d = startDaemon({ client: endpoint.client, keys: endpoint.keys, channel: endpoint.channel, name: o.name, permits, allow });
    io.err(`daemon ${endpoint.client.atSign} (device ${o.name}) ready: permits ${o.permit.join(", ")}; allows ${allow.join(", ")}`);
    const reload = () => {
      try {
        d!.setAllowed(readAllow());
      } catch (e) {
        io.err(`allow list not reloaded: ${(e as Error).message}`);
      }
    };
    let mtime = o.allowFile ? mtimeOf(o.allowFile) : 0;
    const poll = o.allowFile
      ? setInterval(() => {
          const m = mtimeOf(o.allowFile!);
          if (m !== mtime) {
            mtime = m;
            reload();
          }
        }, ALLOW_FILE_POLL_MS)
      : undefined;
    process.on("SIGHUP", reload);
    const signal = await untilSignal();
    clearInterval(poll);
    process.off("SIGHUP", reload);
    io.err(`daemon stopping (${signal})`);
    d.stop();
    endpoint.close();
    return 0;
  },
};

function allowFileEntries(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean);
}

function checkedAtSign(text: string): string {
  const r = atSignSchema.safeParse(text);
  if (!r.success) throw new UsageError(`Invalid @sign "${text}" in the allow list`);
  return normalizeAtSign(r.data);
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}
