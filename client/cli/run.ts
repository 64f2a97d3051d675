/**
 * The CLI dispatcher: picks the command, parses its options (the local stack's config standing in for
 * INLAY_DIRECTORY), maps failures to one stderr line — or, with --json, one JSON object on stdout — and the exit
 * status.
 */
import { inlayHome } from "../../core/crypto/dev_ca.ts";
import { helpText, parseOptions, UsageError } from "../../core/options.ts";
import { INLAY_VERSION } from "../../core/version.ts";
import { checkCaFile, EXIT, failure, type CliCommand, type CliIo, type Failure } from "./command.ts";
import { readLocalConfig, withLocalConfig } from "./local_config.ts";
/**
 * The commands, loaded on use: a command imports only its own part of the SDK (a tunnel does not load the L402
 * backends, `get` does not load the tunnel), which keeps start-up short — it is most of `tunnel`'s time to ready.
 */
const COMMANDS: Record<string, { description: string; load: () => Promise<CliCommand<any>> }> = {
  onboard: { description: "Creates this device's keys for @SIGN, registers them with its atServer and writes the .atKeys file (mode 0600).", load: async () => (await import("./onboard.ts")).onboard },
  put: { description: "Stores a value: public (signed), shared with another @sign (encrypted for it) or self (encrypted).", load: async () => (await import("./put.ts")).put },
  get: { description: "Reads a value: mine (decrypted), another @sign's public value (signature checked) or one shared with me.", load: async () => (await import("./get.ts")).get },
  delete: { description: "Deletes one of my keys (exit 1 when it does not exist).", load: async () => (await import("./delete.ts")).del },
  scan: { description: "Lists my keys, optionally those whose name contains a match of REGEX.", load: async () => (await import("./scan.ts")).scan },
  keys: { description: "Shows my @sign, the path of my .atKeys file and my public keys (PKAM and encryption).", load: async () => (await import("./keys.ts")).keys },
  enroll: { description: "Enrolls this device for an app (with an OTP) or, on a manager device, lists and decides enrollment requests.", load: async () => (await import("./enroll.ts")).enroll },
  otp: { description: "Prints a one-time passcode for `enroll request` on a new device (needs a manager device's keys).", load: async () => (await import("./otp.ts")).otp },
  gatekeeper: { description: "Shows and sets my atServer's gatekeeper rules; lists, admits or rejects the senders held in quarantine.", load: async () => (await import("./gatekeeper.ts")).gatekeeper },
  daemon: { description: "Device daemon: accepts end-to-end encrypted tunnels from allowed @signs to permitted local services.", load: async () => (await import("./daemon.ts")).daemon },
  tunnel: { description: "Opens a local port whose connections reach a service on the device, end-to-end encrypted through a relay.", load: async () => (await import("./tunnel.ts")).tunnel },
  ssh: { description: "Runs the system ssh to the device's sshd through an end-to-end encrypted tunnel.", load: async () => (await import("./ssh.ts")).ssh },
  notify: { description: "Notifies another @sign about a key (the value encrypted for it) or sends it a text message; prints the id.", load: async () => (await import("./notify.ts")).notify },
  monitor: { description: "Prints my notifications as JSON lines (decrypted), live; reconnects and resumes by itself.", load: async () => (await import("./monitor.ts")).monitor },
  "notify-status": { description: "Prints the delivery state of a notification I sent: queued, delivered, errored or expired.", load: async () => (await import("./notify_status.ts")).notifyStatus },
  sync: { description: "Syncs this device's local cache with my atServer: pulls other devices' changes, pushes local ones.", load: async () => (await import("./sync.ts")).sync },
  fetch: { description: "Calls an HTTP API served by an @sign (curl-like); the body goes to stdout.", load: async () => (await import("./fetch.ts")).fetchCommand },
  host: { description: "Provisions the @signs of a hosting process (bun server.ts --hosted DIR): create, list, status, reset, export, import, delete.", load: async () => (await import("./host.ts")).host },
  gateway: { description: "Serves an @sign API as plain HTTP on a local port (requests go out as my @sign).", load: async () => (await import("./gateway.ts")).gateway },
};

/** How the texts below name the CLI; runCli replaces it with the program actually running (a bundle, say). */
const CLI_PROGRAM = "bun client.ts";

const OVERVIEW = `Usage: ${CLI_PROGRAM} <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(13)} ${c.description}`)
  .join("\n")}

Exit status: 0 ok, 1 not found, 2 usage, 3 keys/auth/crypto, 4 network or refused (client/README.md).
Run \`${CLI_PROGRAM} <command> --help\` for a command's options; \`${CLI_PROGRAM} --version\` prints the version.
`;

/**
 * Runs one CLI invocation; returns the exit status. `program` is how the user runs the CLI (`bun dist/client.js`
 * when bundled); help, usage and hints name it.
 */
export async function runCli(argv: string[], env: Record<string, string | undefined>, io: CliIo, program = CLI_PROGRAM): Promise<number> {
  const named = (text: string) => (program === CLI_PROGRAM ? text : text.replaceAll(CLI_PROGRAM, program));
  const [name, ...rest] = argv;
  const json = rest.includes("--json") || /^(1|true|yes)$/i.test(env.INLAY_JSON ?? "");
  const fail = (f: Failure): number => {
    const message = named(f.message.replace(/\s*\n\s*/g, " "));
    if (json) io.out(JSON.stringify({ error: { message, exit: f.code, ...(f.atCode ? { code: f.atCode } : {}) } }) + "\n");
    else io.err(message);
    return f.code;
  };
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.out(named(OVERVIEW));
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === "--version") {
    io.out(`inlay client ${INLAY_VERSION}\n`);
    return EXIT.ok;
  }
  const entry = COMMANDS[name];
  if (!entry) return fail({ code: EXIT.usage, message: `Unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(", ")}; see ${CLI_PROGRAM} --help)` });
  try {
    const command = await entry.load();
    const parsed = parseOptions(command.spec, rest, withLocalConfig(env, readLocalConfig(inlayHome(env))));
    if (parsed.help) {
      io.out(named(helpText(command.usage, entry.description, command.spec)));
      return EXIT.ok;
    }
    if (parsed.version) {
      io.out(`inlay client ${INLAY_VERSION}\n`);
      return EXIT.ok;
    }
    const ca = (parsed.options as { ca?: string }).ca;
    if (ca) checkCaFile(ca);
    return await command.run(parsed.options, parsed.positionals, { ...io, err: (line) => io.err(named(line)) });
  } catch (e) {
    const f = failure(e);
    return fail(e instanceof UsageError ? { ...f, message: `${f.message} (see ${CLI_PROGRAM} ${name} --help)` } : f);
  }
}
