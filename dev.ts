/**
 * `bun dev.ts` (also `bun run start`): the whole system on this machine with the embedded defaults — a
 * directory, one atServer per @sign and a relay, each as its own child process running its real entry, all
 * trusting the dev CA of $INLAY_HOME. Prints what to run next; Ctrl-C stops everything.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod/mini";
import { atSignSchema } from "./core/atsign.ts";
import { inlayHome } from "./core/crypto/dev_ca.ts";
import { UsageError, helpText, parseOptions, portSchema, type OptionSpec } from "./core/options.ts";

const spec = {
  atsigns: { kind: "list", help: "@signs to run an atServer for", default: ["@alice", "@bob"], arg: "@A,@B", schema: z.array(atSignSchema).check(z.minLength(1)) },
  relay: { kind: "string", help: "@sign of the relay (empty: no relay)", default: "@relay", arg: "@R" },
  directoryPort: { kind: "number", help: "directory port (64 needs privileges, hence another default here)", default: 6464, schema: portSchema },
  adminPort: { kind: "number", help: "directory admin API port", default: 6480, schema: portSchema },
  relayPort: { kind: "number", help: "relay port", default: 6466, schema: portSchema },
  relayAdminPort: { kind: "number", help: "relay metrics port", default: 6467, schema: portSchema },
} satisfies OptionSpec;

/** How long one child may take to print its ready line. */
const READY_TIMEOUT_MS = 30_000;
/** How long a server's onboarding hint may trail its ready line (it is printed right after it, when due). */
const HINT_TIMEOUT_MS = 1_000;
/** Lines of each child's output kept for the summary (only start-up lines matter; the rest is echoed). */
const KEPT_LINES = 20;

interface Child {
  name: string;
  proc: Bun.Subprocess<"ignore", "pipe", "inherit">;
}
const children: Child[] = [];

/**
 * Spawns `bun <entry> ...args`, echoes its stdout with a name prefix, resolves with its first line matching
 * `ready`; `output` keeps the child's first lines and `lineMatching` waits (bounded) for a later start-up line.
 */
async function spawn(name: string, args: string[], ready: RegExp): Promise<{ line: string; lineMatching(re: RegExp, timeoutMs: number): Promise<string | null> }> {
  const proc = Bun.spawn(["bun", ...args], { cwd: import.meta.dir, stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  children.push({ name, proc });
  const output: string[] = [];
  const watchers: (() => void)[] = [];
  const decoder = new TextDecoder();
  let pending = "";
  let resolveReady!: (line: string) => void;
  const readyLine = new Promise<string>((r) => (resolveReady = r));
  void (async () => {
    for await (const chunk of proc.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      for (let i = pending.indexOf("\n"); i !== -1; i = pending.indexOf("\n")) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        if (output.length < KEPT_LINES) output.push(line);
        process.stdout.write(`[${name}] ${line}\n`);
        if (ready.test(line)) resolveReady(line);
        for (const w of watchers.splice(0)) w();
      }
    }
  })();
  const line = await Promise.race([
    readyLine,
    proc.exited.then((code) => Promise.reject(new Error(`${name} exited with code ${code} before it was ready (see its output above)`))),
    Bun.sleep(READY_TIMEOUT_MS).then(() => Promise.reject(new Error(`${name} was not ready within ${READY_TIMEOUT_MS / 1000} s`))),
  ]);
  const lineMatching = async (re: RegExp, timeoutMs: number): Promise<string | null> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = output.find((l) => re.test(l));
      if (hit || Date.now() >= deadline || output.length >= KEPT_LINES) return hit ?? null;
      await Promise.race([new Promise<void>((r) => watchers.push(r)), Bun.sleep(deadline - Date.now())]);
    }
  };
  return { line, lineMatching };
}

function stopAll(): void {
  for (const c of children) c.proc.kill("SIGTERM");
}

async function main(): Promise<void> {
  const { options: o, help } = parseOptions(spec, process.argv.slice(2), process.env);
  if (help) {
    process.stdout.write(helpText("bun dev.ts [options]", "Runs a directory, atServers and a relay locally (children of this process).", spec));
    return;
  }
  const home = inlayHome();
  const directory = `127.0.0.1:${o.directoryPort}`;
  process.on("SIGINT", () => (stopAll(), process.exit(0)));
  process.on("SIGTERM", () => (stopAll(), process.exit(0)));

  await spawn("directory", ["directory.ts", "--host", "127.0.0.1", "--port", String(o.directoryPort), "--admin-port", String(o.adminPort)], /listening on/);
  const token = readFileSync(join(home, "directory", "admin.token"), "utf8").trim();
  const common = ["--host", "127.0.0.1", "--directory", directory, "--directory-admin", `http://127.0.0.1:${o.adminPort}`, "--token", token];
  const onboard: string[] = [];
  for (const atSign of o.atsigns) {
    const server = await spawn(atSign, ["server.ts", atSign, ...common], /listening on/);
    // The onboarding hint follows the ready line when the @sign is not onboarded yet; otherwise it never comes.
    const hint = await server.lineMatching(/client\.ts onboard/, HINT_TIMEOUT_MS);
    if (hint) onboard.push(hint.trim());
  }
  if (o.relay) {
    await spawn("relay", ["relay.ts", o.relay, "--host", "127.0.0.1", "--port", String(o.relayPort), "--admin-port", String(o.relayAdminPort), "--directory", directory], /listening on/);
  }
  const first = o.atsigns[0]!;
  process.stdout.write(
    [
      "",
      `Inlay is running (state in ${home}). Next, in another terminal:`,
      `  export INLAY_DIRECTORY=${directory}`,
      ...(onboard.length ? onboard.map((c) => `  ${c}`) : [`  (all @signs are onboarded already)`]),
      `  bun client.ts put phone.wavi +1-555 --as ${first}`,
      `  bun client.ts get phone.wavi --as ${first}`,
      "Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
  await Promise.race(children.map((c) => c.proc.exited.then((code) => Promise.reject(new Error(`${c.name} exited with code ${code}`)))));
}

main().catch((err: unknown) => {
  stopAll();
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
