/** The CLI dispatcher: picks the command, parses its options, maps failures to one stderr line + exit status. */
import { helpText, parseOptions } from "../../core/options.ts";
import { EXIT, failure, type CliCommand, type CliIo } from "./command.ts";
import { daemon } from "./daemon.ts";
import { del } from "./delete.ts";
import { enroll } from "./enroll.ts";
import { fetchCommand } from "./fetch.ts";
import { gateway } from "./gateway.ts";
import { get } from "./get.ts";
import { keys } from "./keys.ts";
import { monitor } from "./monitor.ts";
import { notify } from "./notify.ts";
import { notifyStatus } from "./notify_status.ts";
import { onboard } from "./onboard.ts";
import { otp } from "./otp.ts";
import { put } from "./put.ts";
import { scan } from "./scan.ts";
import { sync } from "./sync.ts";
import { ssh } from "./ssh.ts";
import { tunnel } from "./tunnel.ts";

const COMMANDS: Record<string, CliCommand<any>> = { onboard, put, get, delete: del, scan, keys, enroll, otp, daemon, tunnel, ssh, notify, monitor, "notify-status": notifyStatus, sync, fetch: fetchCommand, gateway };

const OVERVIEW = `Usage: bun client.ts <command> [options]

Commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.name.padEnd(8)} ${c.description}`)
  .join("\n")}

Exit status: 0 ok, 1 not found, 2 usage, 3 auth/crypto, 4 network.
Run \`bun client.ts <command> --help\` for a command's options.
`;

/** Runs one CLI invocation; returns the exit status. */
export async function runCli(argv: string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.out(OVERVIEW);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`Unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(", ")}; see --help)`);
    return EXIT.usage;
  }
  try {
    const parsed = parseOptions(command.spec, rest, env);
    if (parsed.help) {
      io.out(helpText(command.usage, command.description, command.spec));
      return EXIT.ok;
    }
    return await command.run(parsed.options, parsed.positionals, io);
  } catch (e) {
    const f = failure(e);
    io.err(f.message.replace(/\s*\n\s*/g, " "));
    return f.code;
  }
}
