/**
 * Several directory processes (`bun directory.ts --postgres-url-file`) on one real PostgreSQL: a write through
 * one is seen by lookups on the other once its cache is invalidated, lookups go on when one is killed, and a
 * lost LISTEN connection flushes the cache instead of leaving it stale.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { devCaPath } from "../core/crypto/dev_ca.ts";
import { openPostgresRegistry, type PostgresRegistry } from "../directory/postgres_registry.ts";
import { dialTls, type RawTlsConn } from "../directory/raw_tls_client.ts";
import { freshDatabase, postgresBin, POSTGRES_TEST_TIMEOUT_MS, testCluster } from "./postgres.ts";

const ENTRY = join(import.meta.dir, "..", "directory.ts");
/** Bound of every wait on a process or a cache state. */
const WAIT_MS = 15_000;
/** Pause between two polls of a state. */
const POLL_MS = 20;
const home = mkdtempSync(join(tmpdir(), "inlay-directory-pg-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

interface DirectoryProc {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  port: number;
  adminUrl: string;
  token: string;
}

/** Starts `bun directory.ts` on the registry in `urlFile` and waits for its two ready lines. */
async function startDirectoryProc(name: string, urlFile: string): Promise<DirectoryProc> {
  const dataDir = join(home, name);
  const proc = Bun.spawn({
    cmd: [process.execPath, ENTRY, "--host", "127.0.0.1", "--port", "0", "--admin-port", "0", "--data", dataDir, "--postgres-url-file", urlFile],
    env: { ...process.env, INLAY_HOME: home, INLAY_LOG: "warn" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const deadline = setTimeout(() => proc.kill(), WAIT_MS);
  let out = "";
  const decoder = new TextDecoder();
  for await (const chunk of proc.stdout) {
    out += decoder.decode(chunk, { stream: true });
    if (/admin API on .*\n/.test(out)) break;
  }
  clearTimeout(deadline);
  const port = Number(/directory listening on 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  const adminUrl = /admin API on (http:\/\/\S+)/.exec(out)?.[1];
  if (!port || !adminUrl) throw new Error(`directory ${name} did not start: ${out} ${await new Response(proc.stderr).text()}`);
  return { proc, port, adminUrl, token: readFileSync(join(dataDir, "admin.token"), "utf8").trim() };
}

async function register(d: DirectoryProc, atSign: string, host: string, port: number): Promise<void> {
  const res = await fetch(`${d.adminUrl}/v1/atsigns/${atSign}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${d.token}`, "content-type": "application/json" },
    body: JSON.stringify({ host, port }),
  });
  expect(res.status).toBe(200);
}

async function rootConn(d: DirectoryProc): Promise<RawTlsConn> {
  const c = await dialTls(d.port, { ca: readFileSync(devCaPath(home), "utf8") });
  await c.waitFor("@");
  c.clear();
  return c;
}

async function lookup(c: RawTlsConn, key: string): Promise<string> {
  c.write(key + "\n");
  const got = await c.waitFor("\r\n@");
  c.clear();
  return got.slice(0, -3);
}

/** Polls `check` until it holds; fails after WAIT_MS. */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = performance.now() + WAIT_MS;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await Bun.sleep(POLL_MS);
  }
}

/** Looks `key` up until the answer comes from the cache (synchronously): a fetch that crossed an invalidation is not kept. */
const untilCached = (reg: PostgresRegistry, key: string) =>
  until(`${key} is cached`, async () => {
    const r = reg.lookup(key);
    if (!(r instanceof Promise)) return true;
    await r;
    return false;
  });

describe.skipIf(!postgresBin())("directory on PostgreSQL", () => {
  test("a registration through one directory is seen on the other; with one killed, lookups go on", async () => {
    const pg = await testCluster();
    const [a, b] = await Promise.all([startDirectoryProc("a", pg.urlFile), startDirectoryProc("b", pg.urlFile)]);
    try {
      await register(a, "alice", "first.example", 7001);
      const onB = await rootConn(b);
      expect(await lookup(onB, "alice")).toBe("first.example:7001");
      // Now cached on B (found answers have no expiry): only the invalidation can bring the change.
      await register(a, "@alice", "second.example", 7002);
      await until("B answers the new address", async () => (await lookup(onB, "alice")) === "second.example:7002");

      // Pipelined lines on a store that answers through promises still come back in order.
      await register(a, "bob", "bob.example", 7003);
      onB.write("bob\nalice\n");
      expect(await onB.waitFor("second.example:7002\r\n@")).toBe("bob.example:7003\r\n@second.example:7002\r\n@");
      onB.clear();

      a.proc.kill("SIGKILL");
      await a.proc.exited;
      expect(await lookup(onB, "alice")).toBe("second.example:7002");
      await register(b, "carol", "carol.example", 7004);
      expect(await lookup(onB, "carol")).toBe("carol.example:7004");
      onB.close();
    } finally {
      for (const d of [a, b]) d.proc.kill("SIGKILL");
    }
  }, POSTGRES_TEST_TIMEOUT_MS);

  test("a lost LISTEN connection flushes and bypasses the cache until it is subscribed again", async () => {
    const url = await freshDatabase();
    const reg: PostgresRegistry = await openPostgresRegistry({ url });
    const admin = new Bun.SQL(url, { max: 1 });
    try {
      await reg.put("@alice", "alice.example", 6464);
      await untilCached(reg, "alice");
      expect(reg.lookup("alice")).toBe("alice.example:6464");
      expect(reg.stats().cached).toBe(1);

      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`;
      await until("the loss is noticed", () => !reg.stats().live);
      expect(reg.stats().cached).toBe(0);
      // A write whose notification may be lost, as it can be while the connection is down.
      await admin`UPDATE atsigns SET host = 'moved.example' WHERE atsign = 'alice'`;
      expect(await reg.lookup("alice")).toBe("moved.example:6464");

      await until("the LISTEN connection is back and probed", () => reg.stats().live && reg.stats().subscriptions >= 2);
      expect(await reg.lookup("alice")).toBe("moved.example:6464");
      await admin`UPDATE atsigns SET host = 'again.example' WHERE atsign = 'alice'`;
      await until("the change is seen through the cache", async () => (await reg.lookup("alice")) === "again.example:6464");
    } finally {
      await admin.close();
      await reg.close();
    }
  }, POSTGRES_TEST_TIMEOUT_MS);

  test("a LISTEN connection that stops answering (no close seen) makes the cache bypass after the probe bound", async () => {
    const url = await freshDatabase();
    const reg: PostgresRegistry = await openPostgresRegistry({ url });
    const admin = new Bun.SQL(url, { max: 1 });
    let stopped = 0;
    try {
      await reg.put("@alice", "alice.example", 6464);
      await untilCached(reg, "alice");
      expect(reg.stats().cached).toBe(1);
      const [row] = await admin`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'`;
      stopped = row.pid as number;
      // The listening backend freezes: its socket stays open, so only the probe can tell.
      process.kill(stopped, "SIGSTOP");
      await until("the overdue probe is noticed", () => !reg.stats().live);
      expect(reg.stats().cached).toBe(0);
      process.kill(stopped, "SIGCONT");
      stopped = 0;
      await until("probes come back", () => reg.stats().live);
    } finally {
      if (stopped) process.kill(stopped, "SIGCONT");
      await admin.close();
      await reg.close();
    }
  }, POSTGRES_TEST_TIMEOUT_MS);
});
