/**
 * Where the directory finds its PostgreSQL URL: a 0600 file (`--postgres-url-file`) or an environment
 * variable, never a flag, since the URL carries the password and flags show in `ps`.
 */
import { readFileSync, statSync } from "node:fs";

/** Environment variable that may hold the URL instead of a file. */
export const POSTGRES_URL_ENV = "INLAY_POSTGRES_URL";

/**
 * The URL on the first line of `file`, refusing a file that other users can read.
 * @example const url = readPostgresUrl("/run/secrets/registry-url");
 */
export function readPostgresUrl(file: string): string {
  if (statSync(file).mode & 0o077) throw new RangeError(`Cannot use PostgreSQL URL file ${file}: other users can read it (chmod 600 it)`);
  const url = readFileSync(file, "utf8").split("\n")[0]!.trim();
  if (!/^postgres(ql)?:\/\//.test(url)) throw new RangeError(`Cannot use PostgreSQL URL file ${file}: its first line is not a postgres:// URL`);
  return url;
}
