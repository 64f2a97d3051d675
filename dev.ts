/**
 * `bun dev.ts` (also `bun run start`): everything the README shows, on this machine — a directory, an atServer
 * per @sign (@alice, @bob, @device, @api and the relay's @relay), the relay publishing its address as @relay, a
 * demo service for @device's daemon to permit and @api serving a small hono app. Each service is a child running
 * its real entry, restarted (bounded) when it dies. Onboarding is done for you (keys in ~/.atsign/keys), and
 * $INLAY_HOME/config.json tells the CLI where the directory is, so a new terminal needs no exported variable.
 * Ctrl-C stops everything.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod/mini";
import { LOCAL_CONFIG_FILE, writeLocalConfig } from "./client/cli/local_config.ts";
import { atSignSchema } from "./core/atsign.ts";
import { inlayHome } from "./core/crypto/dev_ca.ts";
import { programName } from "./core/entry.ts";
import { UsageError, helpText, parseOptions, portSchema, type OptionSpec } from "./core/options.ts";
import { INLAY_VERSION } from "./core/version.ts";
import { ensureKeys, type KeysOutcome } from "./ops/dev/onboarding.ts";
import { takenPort, type DevPort } from "./ops/dev/ports.ts";
import { startChild, stopChild, type Child } from "./ops/dev/supervisor.ts";

const optionalAtSign = z.union([z.literal(""), atSignSchema]);
const spec = {
  atsigns: { kind: "list", help: "@signs to run an atServer for", default: ["@alice", "@bob", "@device"], arg: "@A,@B", schema: z.array(atSignSchema).check(z.minLength(1)) },
  relay: { kind: "string", help: "@sign of the relay (empty: no relay)", default: "@relay", arg: "@R", schema: optionalAtSign },
  api: { kind: "string", help: "@sign serving the demo API (empty: none)", default: "@api", arg: "@A", schema: optionalAtSign },
  directoryPort: { kind: "number", help: "directory port (64 needs privileges, hence another default here)", default: 6464, schema: portSchema, arg: "PORT" },
  adminPort: { kind: "number", help: "directory admin API port", default: 6480, schema: portSchema, arg: "PORT" },
  relayPort: { kind: "number", help: "relay port", default: 6466, schema: portSchema, arg: "PORT" },
  relayAdminPort: { kind: "number", help: "relay metrics port", default: 6467, schema: portSchema, arg: "PORT" },
  demoPort: { kind: "number", help: "port of the demo service @device's daemon permits", default: 6470, schema: portSchema, arg: "PORT" },
} satisfies OptionSpec;
type DevOptions = ReturnType<typeof parseOptions<typeof spec>>["options"];

const children: Child[] = [];
const say = (line: string) => void process.stdout.write(`[dev] ${line}\n`);
const client = programName("client");

/** A server's onboarding hint (with its CRAM secret): not echoed, the stack onboards by itself. */
const ONBOARDING_HINT = /not onboarded yet|onboard @\S+ --cram/;

/** Starts a child, keeps it for Ctrl-C, and returns its ready line. */
async function run(name: string, args: string[], ready: RegExp, extra: { env?: Record<string, string>; quiet?: RegExp } = {}): Promise<string> {
  const { child, readyLine } = await startChild({ name, args, ready, ...extra }, import.meta.dir, say);
  children.push(child);
  return readyLine;
}

/** The demo service @device's daemon permits: one HTTP answer, so a tunnel to it can be tried with curl. */
function startDemoService(port: number): ReturnType<typeof Bun.serve> {
  return Bun.serve({ hostname: "127.0.0.1", port, reusePort: false, fetch: () => new Response("hello from the demo service behind @device\n") });
}

function ports(o: DevOptions): DevPort[] {
  return [
    { what: "directory", port: o.directoryPort, flag: "--directory-port" },
    { what: "directory admin API", port: o.adminPort, flag: "--admin-port" },
    ...(o.relay ? [{ what: "relay", port: o.relayPort, flag: "--relay-port" }, { what: "relay metrics", port: o.relayAdminPort, flag: "--relay-admin-port" }] : []),
    { what: "demo service", port: o.demoPort, flag: "--demo-port" },
  ].filter((p) => p.port !== 0);
}

/** The lines printed once everything is up: what runs, what was onboarded, what to try. */
function summary(o: DevOptions, home: string, keys: KeysOutcome[]): string {
  const first = o.atsigns[0]!;
  const other = o.atsigns[1] ?? first;
  const made = keys.filter((k) => k.state === "onboarded").map((k) => k.atSign);
  const blocked = keys.filter((k) => k.state === "blocked");
  return [
    "",
    `Inlay ${INLAY_VERSION} is running (state in ${home}; ${join(home, LOCAL_CONFIG_FILE)} points the CLI at directory 127.0.0.1:${o.directoryPort}).`,
    `  atServers: ${keys.map((k) => k.atSign).join(" ")}${o.relay ? ` · relay ${o.relay} on 127.0.0.1:${o.relayPort} (published: --relay ${o.relay})` : ""}`,
    `  demo service for @device's daemon: 127.0.0.1:${o.demoPort}${o.api ? ` · ${o.api} serves GET /v1/items` : ""}`,
    ...(made.length ? [`  onboarded now: ${made.join(" ")} (keys in ${join("~", ".atsign", "keys")})`] : blocked.length ? [] : [`  keys: all in ${join("~", ".atsign", "keys")}`]),
    ...blocked.map((k) => `  ! ${k.fix}`),
    "Try, in another terminal:",
    `  ${client} put phone.wavi +1-555 --as ${first}`,
    `  ${client} get phone.wavi --as ${first}`,
    `  ${client} put ${other}:note.wavi "hi" --as ${first}`,
    `  ${client} get note.wavi${first} --as ${other}`,
    ...(o.api ? [`  ${client} fetch ${o.api} /v1/items --as ${other}`] : []),
    "See README.md for tunnels, notify and monitor. Ctrl-C stops everything.",
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const { options: o, help, version } = parseOptions(spec, process.argv.slice(2), process.env);
  if (help) return void process.stdout.write(helpText("bun run start [options]   (bun dev.ts)", "Runs the whole system locally, as children of this process.", spec));
  if (version) return void process.stdout.write(`inlay dev ${INLAY_VERSION}\n`);
  const taken = takenPort(ports(o));
  if (taken) throw new UsageError(`Port ${taken.port} (${taken.what}) is in use (a stack already running?); choose another with bun run start ${taken.flag} ${taken.port + 100}`);
  const home = inlayHome();
  const directory = `127.0.0.1:${o.directoryPort}`;
  const stop = () => void Promise.all(children.map(stopChild)).then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  await run("directory", ["directory.ts", "--host", "127.0.0.1", "--port", String(o.directoryPort), "--admin-port", String(o.adminPort)], /listening on/);
  // The admin token goes to the servers in their environment: a command line is visible to every user in `ps`.
  const token = readFileSync(join(home, "directory", "admin.token"), "utf8").trim();
  const atSigns = [...new Set([...o.atsigns, ...(o.api ? [o.api] : []), ...(o.relay ? [o.relay] : [])])];
  const net = ["--host", "127.0.0.1", "--directory", directory, "--directory-admin", `http://127.0.0.1:${o.adminPort}`];
  await Promise.all(atSigns.map((a) => run(a, ["server.ts", a, ...net], /listening on/, { env: { INLAY_TOKEN: token }, quiet: ONBOARDING_HINT })));
  writeLocalConfig(home, { directory });
  const keys = await Promise.all(atSigns.map((a) => ensureKeys(a, { home, directory, client })));
  const usable = (a: string) => keys.some((k) => k.atSign === a && k.state !== "blocked");

  startDemoService(o.demoPort);
  if (o.relay) {
    const publish = usable(o.relay) ? ["--keys", keys.find((k) => k.atSign === o.relay)!.keysFile, "--public-host", "127.0.0.1"] : [];
    const ready = publish.length ? /^published /m : /listening on/;
    await run("relay", ["relay.ts", o.relay, "--host", "127.0.0.1", "--port", String(o.relayPort), "--admin-port", String(o.relayAdminPort), "--directory", directory, ...publish], ready);
  }
  if (o.api && usable(o.api)) await run("api", ["ops/dev/demo_api.ts", o.api, "--directory", directory], /serving/);
  process.stdout.write(summary(o, home, keys));
}

main().catch(async (err: unknown) => {
  await Promise.all(children.map(stopChild));
  process.stderr.write(`dev: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
