/**
 * The local stack's address book: `bun run start` (dev.ts) writes `$INLAY_HOME/config.json` with the address of
 * its directory, and the CLI takes it as the default of `--directory`, so a new terminal finds the local stack
 * without an exported variable. Flags and INLAY_* variables still win; without the file the default stays the
 * public root.atsign.org:64 (real @signs).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod/mini";
import { hostPortSchema, UsageError } from "../../core/options.ts";

/** File name inside INLAY_HOME. */
export const LOCAL_CONFIG_FILE = "config.json";
/** Largest config file read; it holds a few addresses. */
const MAX_CONFIG_BYTES = 64 * 1024;

const configSchema = z.looseObject({ directory: z.optional(hostPortSchema) });

/** What the local config sets. */
export type LocalConfig = z.infer<typeof configSchema>;

/** The config of `home`, or {} when there is none; a malformed file is a usage error naming it (not silently public). */
export function readLocalConfig(home: string): LocalConfig {
  const file = join(home, LOCAL_CONFIG_FILE);
  if (!existsSync(file)) return {};
  const text = readFileSync(file, "utf8");
  if (text.length > MAX_CONFIG_BYTES) throw new UsageError(`${file} is larger than ${MAX_CONFIG_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not JSON; fix or delete it`);
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) throw new UsageError(`${file}: "directory" must be HOST:PORT; fix or delete it`);
  return parsed.data;
}

/** Writes the config of `home` (atomically: a reader never sees half a file). */
export function writeLocalConfig(home: string, config: LocalConfig): void {
  const file = join(home, LOCAL_CONFIG_FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify(config, null, 2) + "\n", { mode: 0o644 });
  renameSync(`${file}.tmp`, file);
}

/**
 * The environment the CLI parses its options against: the local config fills INLAY_DIRECTORY when the
 * environment does not set it (a `--directory` flag beats both).
 */
export function withLocalConfig(env: Record<string, string | undefined>, config: LocalConfig): Record<string, string | undefined> {
  return config.directory && !env.INLAY_DIRECTORY ? { ...env, INLAY_DIRECTORY: config.directory } : env;
}
