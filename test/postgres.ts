/**
 * PostgreSQL for tests: one throwaway cluster per test file (ops/postgres/throwaway_postgres.ts), started on
 * first use, each test getting a database of its own. Where PostgreSQL is not installed the tests are skipped
 * with a message, except under CI=true: there it is installed (apt, as root) and a failure fails the run.
 */
import { afterAll } from "bun:test";
import { findPostgresBinDir, installPostgres, startThrowawayPostgres, type ThrowawayPostgres } from "../ops/postgres/throwaway_postgres.ts";

const onCi = process.env.CI === "true";

function binDir(): string | null {
  const found = findPostgresBinDir();
  if (found || !onCi) return found;
  if (process.getuid?.() !== 0) throw new Error("CI=true but PostgreSQL is not installed and this is not root: apt-get install -y postgresql");
  installPostgres();
  const installed = findPostgresBinDir();
  if (!installed) throw new Error("CI=true: installed postgresql but found no initdb");
  return installed;
}

/** The bin folder, or null (tests then skip: `test.skipIf(!POSTGRES_BIN)`). Throws under CI when missing. */
export const POSTGRES_BIN = binDir();
if (!POSTGRES_BIN) console.warn("PostgreSQL is not installed: skipping the PostgreSQL registry tests (apt-get install -y postgresql)");

let cluster: Promise<ThrowawayPostgres> | undefined;
let databases = 0;
afterAll(async () => {
  if (cluster) await (await cluster).stop();
});

/** The test file's cluster, started on first call. */
export function testCluster(): Promise<ThrowawayPostgres> {
  return (cluster ??= startThrowawayPostgres({ bindir: POSTGRES_BIN! }));
}

/** A fresh empty database on the cluster; resolves with its connection URL. */
export async function freshDatabase(): Promise<string> {
  const pg = await testCluster();
  const name = `t${++databases}`;
  const admin = new Bun.SQL(pg.url, { max: 1 });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.close();
  }
  return pg.url.replace(/\/[^/]*$/, `/${name}`);
}
