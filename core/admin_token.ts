import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "./crypto/encoding.ts";
import { logger } from "./log.ts";

/** File under the data directory that holds the generated admin token. */
export const ADMIN_TOKEN_FILE = "admin.token";
/** Random bytes in a generated token (hex-encoded: 64 characters). */
const TOKEN_BYTES = 32;

/**
 * The admin bearer token of a data directory (the directory's admin API, the atServer's metrics endpoint):
 * read from `DIR/admin.token`, or generated once and written there with mode 0600. The exclusive create makes
 * two processes starting at once agree on one token. `part` names the service in the log.
 * @example const token = loadOrCreateAdminToken(dataDir, "directory");
 */
export function loadOrCreateAdminToken(dataDir: string, part: string): string {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, toHex(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES))) + "\n", { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  if (statSync(path).mode & 0o077) logger(part).warn("admin token file is readable by other users; chmod 600 it", { path });
  const token = readFileSync(path, "utf8").trim();
  if (token === "") throw new RangeError(`Cannot use admin token file ${path}: it is empty (delete it to generate a new token)`);
  return token;
}
