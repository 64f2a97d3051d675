/**
 * PostgreSQL for tests: one throwaway cluster per test process (ops/postgres/throwaway_postgres.ts), started
 * on first use and stopped after the last test file (test/setup.ts; bun test runs no `exit` handlers), each
 * test getting a database of its own. Where PostgreSQL is not installed the tests are skipped with a message,
 * except under CI=true: there it is installed (apt, as root) and a failure fails the run.
 */
import { findPostgresBinDir, installPostgres, startThrowawayPostgres, type ThrowawayPostgres } from "../ops/postgres/throwaway_postgres.ts";

/**
 * Bound on one test that uses PostgreSQL (the first one also starts the cluster, ~2 s here). Given per test:
 * the preload's default timeout does not reach every file when bun test runs several.
 */
export const POSTGRES_TEST_TIMEOUT_MS = 60_000;

let bin: string | null | undefined;
let cluster: Promise<ThrowawayPostgres> | undefined;
let databases = 0;

/** The bin folder, or null (tests then skip: `test.skipIf(!postgresBin())`). Throws under CI when missing. */
export function postgresBin(): string | null {
  if (bin !== undefined) return bin;
  bin = findPostgresBinDir();
  if (!bin && process.env.CI === "true") {
    if (process.getuid?.() !== 0) throw new Error("CI=true but PostgreSQL is not installed and this is not root: apt-get install -y postgresql");
    installPostgres();
    bin = findPostgresBinDir();
    if (!bin) throw new Error("CI=true: installed postgresql but found no initdb");
  }
  if (!bin) console.warn("PostgreSQL is not installed: skipping the PostgreSQL registry tests (apt-get install -y postgresql)");
  return bin;
}

/** The test process's cluster, started on first call. */
export function testCluster(): Promise<ThrowawayPostgres> {
  return (cluster ??= startThrowawayPostgres({ bindir: postgresBin()! }));
}

/** Stops the cluster if one was started (test/setup.ts calls it after the last test file). */
export async function stopTestCluster(): Promise<void> {
  const started = cluster;
  cluster = undefined;
  if (started) await (await started).stop();
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
