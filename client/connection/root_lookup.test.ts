/**
 * Directory lookups against a scripted peer speaking the root protocol of ATPROTOCOL.md §1 (`@`, then
 * `host:port\r\n@` or `null\r\n@`): caching, expiry, misses. The real directory is exercised in test/client/.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:tls";
import { issueLeaf, loadOrCreateDevCa } from "../../core/crypto/dev_ca.ts";
import { AtNetworkError } from "../errors.ts";
import { ROOT_CACHE_TTL_MS, rootResolver } from "./root_lookup.ts";

const home = mkdtempSync(join(tmpdir(), "inlay-root-"));
let ca: string;
let connections = 0;
let server: Server;
let port: number;
const table: Record<string, string> = { alice: "localhost:7001" };

// node:tls, so this file runs on Bun and Deno alike.
beforeAll(async () => {
  const devCa = await loadOrCreateDevCa(home);
  ca = devCa.cert;
  server = createServer(await issueLeaf(devCa, ["127.0.0.1"]), (s) => {
    connections++;
    s.on("error", () => {});
    s.write("@");
    s.on("data", (chunk: Buffer) => {
      const line = chunk.toString().trim();
      if (line === "@exit") return void s.end();
      s.write(`${table[line] ?? "null"}\r\n@`);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(home, { recursive: true, force: true });
});

test("answers are cached until they expire", async () => {
  let now = 1_000;
  const root = rootResolver({ host: "127.0.0.1", port }, [ca], () => now);
  const before = connections;
  expect(await root.resolve("@alice")).toEqual({ host: "localhost", port: 7001 });
  expect(await root.resolve("@alice")).toEqual({ host: "localhost", port: 7001 });
  expect(connections - before).toBe(1);
  now += ROOT_CACHE_TTL_MS + 1;
  table.alice = "localhost:7002";
  expect(await root.resolve("@alice")).toEqual({ host: "localhost", port: 7002 });
  root.forget("@alice");
  await root.resolve("@alice");
  expect(connections - before).toBe(3);
});

test("an unknown @sign is AT0007 with the fix named", async () => {
  const root = rootResolver({ host: "127.0.0.1", port }, [ca]);
  const err = await root.resolve("@nobody").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AtNetworkError);
  expect(err).toMatchObject({ code: "AT0007" });
  expect(String((err as Error).message)).toContain("--directory");
});
