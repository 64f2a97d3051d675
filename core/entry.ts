/**
 * What every service entry does around its own start: parse the flags (core/options), answer `--help`, turn
 * a failure into one line on stderr — exit 2 for a usage problem, 1 for anything else — and stop the service
 * cleanly on SIGINT/SIGTERM. The entry files then hold only their flags and the call that starts their part.
 */
import { atSignSchema } from "./atsign.ts";
import { UsageError, helpText, parseOptions, type OptionSpec, type Options } from "./options.ts";

export interface EntryDef<S extends OptionSpec> {
  /** Prefix of error lines, e.g. "directory". */
  name: string;
  usage: string;
  about: string;
  spec: S;
}

/** A started service; `stop` runs on SIGINT/SIGTERM before the process exits 0. */
export interface Stoppable {
  stop(): Promise<void>;
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
  try {
    const { options, positionals, help } = parseOptions(def.spec, argv, env);
    if (help) {
      process.stdout.write(helpText(def.usage, def.about, def.spec));
      return;
    }
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
      process.stderr.write(`${err.message} (see ${def.usage.split(" [")[0]} --help)\n`);
      process.exit(2);
    }
    // Bind, TLS file and data directory problems: one line, no stack.
    process.stderr.write(`${def.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

/** The one @sign a service entry takes as its positional argument, canonical; a UsageError otherwise. */
export function oneAtSign(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw new UsageError(`Expected exactly one @sign, e.g. ${usage}`);
  const parsed = atSignSchema.safeParse(positionals[0]);
  if (!parsed.success) throw new UsageError(parsed.error.issues[0]?.message ?? "Invalid @sign");
  return parsed.data;
}
