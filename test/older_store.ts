/**
 * Store files as a version before the metadata repair migration left them, for tests of the upgrade path.
 */
import { Database } from "bun:sqlite";

/**
 * Opens a store file and takes it back to the schema of the version before the repair migration (the last one):
 * the pending-repair table gone, user_version one lower. The caller writes its rows and closes it.
 * @example const db = asOlderVersion(join(dataDir, "keystore.sqlite"));
 */
export function asOlderVersion(path: string): Database {
  const db = new Database(path);
  const version = db.query<{ user_version: number }, []>("PRAGMA user_version").get()!.user_version;
  db.run("DROP TABLE pending_repairs");
  db.run(`PRAGMA user_version = ${version - 1}`);
  return db;
}
