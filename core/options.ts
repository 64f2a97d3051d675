/**
 * The one option parser the entries share: `--name value`, `--name=value`, boolean `--flag`, repeatable
 * `list` options, positionals, and an `INLAY_<NAME>` environment variable for every option. Values are
 * validated with zod; `--help` text is generated from the same spec, so flags and help cannot drift apart.
 */
import { ENGLISH } from "./zod_english.ts";
import * as z from "zod/mini";
import { parseHostPort } from "./host_port.ts";

export type OptionKind = "string" | "number" | "boolean" | "list";

export interface OptionDef {
  kind: OptionKind;
  help: string;
  /** Default when neither the flag nor the env var is given. */
  default?: string | number | boolean | string[];
  /** Extra validation of the final value (e.g. a port range or an @sign); any zod schema (zod/mini or classic). */
  schema?: z.core.$ZodType;
  /** Placeholder shown in help, e.g. HOST:PORT. */
  arg?: string;
  /** One-letter alias, e.g. "d" for -d. */
  short?: string;
  /** Set false for options that must not come from the environment (e.g. secrets shown in `ps`). */
  env?: boolean;
}

export type OptionSpec = Record<string, OptionDef>;

type ValueOf<D extends OptionDef> = D["kind"] extends "number"
  ? number
  : D["kind"] extends "boolean"
    ? boolean
    : D["kind"] extends "list"
      ? string[]
      : string;

export type Options<S extends OptionSpec> = {
  [K in keyof S]: S[K]["default"] extends undefined ? ValueOf<S[K]> | undefined : ValueOf<S[K]>;
};

export interface Parsed<S extends OptionSpec> {
  options: Options<S>;
  positionals: string[];
  /** True when `--help`/`-h` was given; the caller prints `helpText` and exits 0. */
  help: boolean;
  /** True when `--version` was given; the caller prints the version and exits 0. */
  version: boolean;
}

/** A usage problem: the entry prints the message (plus where to find `--help`) and exits with status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
const envName = (name: string) => "INLAY_" + kebab(name).replace(/-/g, "_").toUpperCase();

/**
 * Parses `argv` (without the runtime and script) against `spec`, falling back to `env`, then defaults.
 * @example parseOptions({ port: { kind: "number", help: "port", default: 64 } }, ["--port", "6464"], {})
 */
export function parseOptions<S extends OptionSpec>(spec: S, argv: string[], env: Record<string, string | undefined>): Parsed<S> {
  const byFlag = new Map<string, string>();
  for (const name of Object.keys(spec)) {
    byFlag.set("--" + kebab(name), name);
    const short = spec[name]!.short;
    if (short) byFlag.set("-" + short, name);
  }
  const raw: Record<string, string[]> = {};
  const positionals: string[] = [];
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (arg === "--version") {
      version = true;
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const name = byFlag.get(flag);
    if (!name) throw new UsageError(`Unknown option ${flag}`);
    const def = spec[name]!;
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else if (def.kind === "boolean") value = "true";
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`Option ${flag} needs a value${def.arg ? ` (${def.arg})` : ""}`);
      value = next;
      i++;
    }
    (raw[name] ??= []).push(value);
  }
  const options: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(spec)) {
    let given = raw[name];
    const fromEnv = def.env !== false ? env[envName(name)] : undefined;
    if (!given && fromEnv !== undefined && fromEnv !== "") given = def.kind === "list" ? fromEnv.split(",") : [fromEnv];
    options[name] = given ? convert(name, def, given) : def.default;
    if (def.schema && options[name] !== undefined) {
      const r = z.safeParse(def.schema, options[name], ENGLISH);
      if (!r.success) throw new UsageError(`Invalid --${kebab(name)}: ${r.error.issues[0]?.message ?? "rejected"}`);
      options[name] = r.data;
    }
  }
  return { options: options as Options<S>, positionals, help, version };
}

function convert(name: string, def: OptionDef, values: string[]): unknown {
  const last = values[values.length - 1]!;
  switch (def.kind) {
    case "list":
      return values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
    case "boolean":
      if (!/^(true|false|1|0|yes|no)$/i.test(last)) throw new UsageError(`Invalid --${kebab(name)}: expected true or false, got "${last}"`);
      return /^(true|1|yes)$/i.test(last);
    case "number": {
      const n = Number(last);
      if (last.trim() === "" || !Number.isFinite(n)) throw new UsageError(`Invalid --${kebab(name)}: expected a number, got "${last}"`);
      return n;
    }
    default:
      return last;
  }
}

/** The `--help` text: usage line, description, then one line per option with its env var and default. */
export function helpText(usage: string, description: string, spec: OptionSpec): string {
  const rows = Object.entries(spec).map(([name, def]) => {
    const flag = `${def.short ? `-${def.short}, ` : ""}--${kebab(name)}${def.kind === "boolean" ? "" : ` ${def.arg ?? def.kind.toUpperCase()}`}`;
    const extra = [def.env !== false ? envName(name) : "", def.default !== undefined && def.default !== "" ? `default ${JSON.stringify(def.default)}` : ""]
      .filter(Boolean)
      .join(", ");
    return [flag, def.help + (extra ? ` (${extra})` : "")] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length), 10) + 2;
  return [`Usage: ${usage}`, "", description, "", "Options:", ...rows.map(([f, h]) => `  ${f.padEnd(width)}${h}`), `  ${"-h, --help".padEnd(width)}show this help`, `  ${"--version".padEnd(width)}print the version`].join("\n") + "\n";
}

/** Validators shared by several entries. */
export const portSchema = z.number().check(z.int(), z.minimum(0), z.maximum(65535));
export const hostPortSchema = z.string().check(z.refine((t) => parseHostPort(t, { allowPortZero: true }) !== null, "expected HOST:PORT"));
