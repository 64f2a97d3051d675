import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serviceTls } from "../core/net/tls.ts";
import { fillPostgresRegistry, fillRegistry, fixtureAtSign, FILL_BATCH_ROWS } from "./fill_registry.ts";
import { REGISTRY_FILE, startDirectory } from "./index.ts";
import { measureLookups } from "./measure_lookups.ts";
import { openSqliteRegistry } from "./sqlite_registry.ts";
import { openPostgresRegistry } from "./postgres_registry.ts";
import { freshDatabase, postgresBin, POSTGRES_TEST_TIMEOUT_MS } from "../test/postgres.ts";

const home = mkdtempSync(join(tmpdir(), "inlay-fill-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

test("fills across batch boundaries, keeps existing rows, and is idempotent", async () => {
  const path = join(home, "fill.sqlite");
  const count = FILL_BATCH_ROWS + 5;
  let reg = openSqliteRegistry(path);
  await reg.put("@alice", "alice.example", 1);
  await reg.close();
  expect(fillRegistry(path, { count }).rows).toBe(count);
  fillRegistry(path, { count });
  reg = openSqliteRegistry(path);
  try {
    expect(reg.count()).toBe(count + 1);
    expect(reg.lookup("alice")).toBe("alice.example:1");
    expect(reg.lookup(fixtureAtSign(0).slice(1))).toMatch(/^[0-9a-f]{8}-0000\.swarm0001\.inlay\.test:6464$/);
    expect((await reg.get(fixtureAtSign(count - 1)))?.atSign).toBe("@bench0100004");
    expect(await reg.get(fixtureAtSign(count))).toBeNull();
  } finally {
    await reg.close();
  }
});

test("refuses a prefix that would not be a valid @sign and an impossible count", () => {
  expect(() => fillRegistry(join(home, "bad.sqlite"), { count: 1, prefix: "A B" })).toThrow('prefix "A B" may contain only');
  expect(() => fillRegistry(join(home, "bad.sqlite"), { count: -1 })).toThrow("count must be an integer");
});

test("measureLookups resolves generated @signs over TLS on several connections", async () => {
  const dataDir = join(home, "dir");
  fillRegistry(join(dataDir, REGISTRY_FILE), { count: 1000, port: 7000 });
  const tls = await serviceTls({ home });
  const dir = await startDirectory({ port: 0, adminPort: 0, dataDir, tls });
  try {
    const keys = [fixtureAtSign(1), fixtureAtSign(999)].map((a) => a.slice(1));
    const r = await measureLookups({ port: dir.port, ca: tls.ca!, keys, lookups: 200, connections: 4, warmup: 5 });
    expect(r.lookups).toBe(200);
    expect(r.misses).toBe(0);
    expect(r.p50Ms).toBeLessThanOrEqual(r.p99Ms);
    expect(dir.stats().found).toBe(220);
  } finally {
    await dir.stop();
  }
});

test.skipIf(!postgresBin())("PostgreSQL gets the same rows, and an open registry recounts after the bulk statement", async () => {
  const url = await freshDatabase();
  const reg = await openPostgresRegistry({ url });
  const path = join(home, "same.sqlite");
  const count = 500;
  fillRegistry(path, { count });
  const sqlite = openSqliteRegistry(path);
  try {
    await fillPostgresRegistry(url, { count });
    for (const i of [0, 1, 255, count - 1]) {
      const [a, b] = [await sqlite.get(fixtureAtSign(i)), await reg.get(fixtureAtSign(i))];
      expect({ ...b!, updatedAt: 0 }).toEqual({ ...a!, updatedAt: 0 });
    }
    const deadline = performance.now() + 10_000;
    while (reg.count() !== count && performance.now() < deadline) await Bun.sleep(20);
    expect(reg.count()).toBe(count);
  } finally {
    await sqlite.close();
    await reg.close();
  }
}, POSTGRES_TEST_TIMEOUT_MS);
