/**
 * What every service entry does around its own start: parse the flags (core/options), answer `--help` and
 * `--version`, turn a failure into one line on stderr — exit 2 for a usage problem, 1 for anything else — and
 * stop the service cleanly on SIGINT/SIGTERM. The entry files then hold only their flags and the call that
 * starts their part.
 */
import { dirname, extname, join, relative } from "node:path";
import { atSignSchema } from "./atsign.ts";
import { UsageError, helpText, parseOptions, type OptionSpec, type Options } from "./options.ts";
import { INLAY_VERSION } from "./version.ts";

/** One listener an entry opens, with the flags that choose its port and address (named in bind errors). */
export interface ListenerFlags {
  what: string;
  host: string;
  port: number;
  portFlag: string;
  hostFlag: string;
}

export interface EntryDef<S extends OptionSpec> {
  /** Prefix of error lines and file name of the entry, e.g. "directory" (`directory.ts`, `dist/directory.js`). */
  name: string;
  /** Usage after the program, e.g. "@alice [options]". */
  usage: string;
  about: string;
  spec: S;
  /** The listeners the options ask for, so that a refused bind names the address and the flag to change. */
  listeners?: (options: Options<S>) => ListenerFlags[];
}

/** A started service; `stop` runs on SIGINT/SIGTERM before the process exits 0. */
export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * How a person runs entry `name` of this installation: `bun directory.ts` from the sources, `bun dist/directory.js`
 * from the bundle — the directory and extension of the running script, relative to the working directory.
 * @example programName("client") // "bun client.ts" when `bun server.ts` runs from the repository root
 */
export function programName(name: string, script = process.argv[1] ?? "", cwd = process.cwd()): string {
  const ext = extname(script) === ".js" ? ".js" : ".ts";
  const dir = script ? relative(cwd, dirname(script)) : "";
  // A script outside the working directory is named by its absolute path (a relative one would need `../`).
  const where = dir.startsWith("..") ? dirname(script) : dir;
  return `bun ${join(where, `${name}${ext}`)}`;
}

const BIND_REASONS: Record<string, string> = {
  EACCES: "permission denied (ports below 1024 need privileges)",
  EADDRINUSE: "the port is in use",
  EADDRNOTAVAIL: "the address is not on this machine",
};

/**
 * The one-line message for a listener that could not bind, naming its address and the flag to change, or null
 * when `err` is not a bind error or already names a flag (the directory's BindError does). Bun's errors carry the
 * port (Bun.listen) or name it in the message (Bun.serve).
 */
export function bindFailure(err: unknown, listeners: ListenerFlags[]): string | null {
  const e = err as { code?: unknown; port?: unknown; message?: unknown } | null;
  const code = e?.code;
  if (typeof code !== "string" || !(code in BIND_REASONS) || listeners.length === 0 || /--[a-z]/.test(String(e?.message))) return null;
  const port = typeof e!.port === "number" ? e!.port : Number(/port (\d+)/.exec(String(e!.message))?.[1] ?? NaN);
  const hit = listeners.find((l) => l.port === port) ?? (listeners.length === 1 ? listeners[0]! : null);
  if (!hit) return `Cannot listen on port ${port}: ${BIND_REASONS[code]}; change it with ${listeners.map((l) => l.portFlag).join(" or ")}`;
  const host = hit.host.includes(":") ? `[${hit.host}]` : hit.host;
  const fix = code === "EADDRNOTAVAIL" ? `choose another address with ${hit.hostFlag}` : `choose another port with ${hit.portFlag}`;
  return `Cannot listen on ${host}:${hit.port} (${hit.what}): ${BIND_REASONS[code]}; ${fix}`;
}

/**
 * Runs an entry. `argv` and `env` come from the entry file (only entries read process.argv).
 * @example await runEntry({ name: "relay", usage, about, spec }, process.argv.slice(2), process.env, async (o, args) => startRelay(...))
 */
export async function runEntry<S extends OptionSpec>(
  def: EntryDef<S>,
  argv: string[],
  env: Record<string, string | undefined>,
  start: (options: Options<S>, positionals: string[]) => Promise<Stoppable>,
): Promise<void> {
  const program = programName(def.name);
  let listeners: ListenerFlags[] = [];
  try {
    const { options, positionals, help, version } = parseOptions(def.spec, argv, env);
    if (help) {
      process.stdout.write(helpText(`${program} ${def.usage}`, def.about, def.spec));
      return;
    }
    if (version) {
      process.stdout.write(`inlay ${def.name} ${INLAY_VERSION}\n`);
      return;
    }
    listeners = def.listeners?.(options) ?? [];
    // Handlers go in before the service starts: a signal that arrives while no handler is installed kills the
    // process at once (exit 143), even between the ready line and the end of start-up. Regression: a SIGTERM
    // right after the ready line (test/server_entry.test.ts) hit that window.
    let service: Stoppable | null = null;
    let stopRequested = false;
    const stop = (s: Stoppable) => void s.stop().then(() => process.exit(0), () => process.exit(1));
    const shutdown = () => {
      stopRequested = true;
      if (service) stop(service);
    };
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
    service = await start(options, positionals);
    if (stopRequested) stop(service);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message} (see ${program} --help)\n`);
      process.exit(2);
    }
    // Bind, TLS file and data directory problems: one line, no stack.
    const message = bindFailure(err, listeners) ?? (err instanceof Error ? err.message : String(err));
    process.stderr.write(`${def.name}: ${message}\n`);
    process.exit(1);
  }
}

/** The one @sign a service entry takes as its positional argument, canonical; a UsageError otherwise. */
export function oneAtSign(positionals: string[], example: string): string {
  if (positionals.length !== 1) throw new UsageError(`Expected exactly one @sign, e.g. ${example}`);
  const parsed = atSignSchema.safeParse(positionals[0]);
  if (!parsed.success) throw new UsageError(parsed.error.issues[0]?.message ?? "Invalid @sign");
  return parsed.data;
}
