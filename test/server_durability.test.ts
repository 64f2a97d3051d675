/**
 * Durability and robustness: an acknowledged write survives SIGKILL of the server process; many concurrent
 * connections keep their answers apart; random garbage lines never crash or stall the server.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { devCaPath } from "../core/crypto/dev_ca.ts";
import { cramAuth, startServerFixture, type ServerFixture } from "./server_fixture.ts";
import { connectWire } from "./wire_client.ts";

let f: ServerFixture;
beforeAll(async () => {
  f = await startServerFixture();
});
afterAll(async () => {
  await f.stop();
});

async function spawnServer(home: string, dataDir: string) {
  const proc = Bun.spawn(["bun", join(import.meta.dir, "fixtures", "server_child.ts"), home, dataDir], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let out = "";
  while (!/port \d+\n/.test(out)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server child exited: ${out}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { proc, port: Number(/port (\d+)/.exec(out)![1]) };
}

test("a write acknowledged with data:<id> survives kill -9 of the server", async () => {
  const home = mkdtempSync(join(tmpdir(), "inlay-crash-"));
  const dataDir = join(home, "data");
  try {
    const first = await spawnServer(home, dataDir);
    const ca = readFileSync(devCaPath(home), "utf8");
    const c = await connectWire(first.port, ca);
    expect(await cramAuth(c, "@crash", "c".repeat(128))).toBe("data:success");
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await c.send(`update:k${i}.crash@crash v${i}`));
    first.proc.kill(9);
    await first.proc.exited;
    c.close();
    const second = await spawnServer(home, dataDir);
    const d = await connectWire(second.port, ca);
    expect(await cramAuth(d, "@crash", "c".repeat(128))).toBe("data:success");
    for (let i = 0; i < 20; i++) expect(await d.send(`llookup:k${i}.crash@crash`)).toBe(`data:v${i}`);
    expect(JSON.parse((await d.send("stats:3")).slice(6))[0].value).toBe(ids[19]!.slice(5));
    d.close();
    second.proc.kill();
    await second.proc.exited;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}, 30_000);

test("50 concurrent owner connections each get their own answers", async () => {
  const clients = await Promise.all(Array.from({ length: 50 }, () => f.connectOwner()));
  await Promise.all(
    clients.map(async (c, n) => {
      for (let i = 0; i < 10; i++) {
        expect(await c.send(`update:c${n}-${i}.conc@alice value-${n}-${i}`)).toMatch(/^data:\d+$/);
        expect(await c.send(`llookup:c${n}-${i}.conc@alice`)).toBe(`data:value-${n}-${i}`);
      }
    }),
  );
  for (const c of clients) c.close();
});

test("a client that pipelines big reads without reading gets every answer, in order, once it reads", async () => {
  const o = await f.connectOwner();
  const big = "b".repeat(200_000);
  expect(await o.send(`update:big.pipe@alice ${big}`)).toMatch(/^data:\d+$/);
  const n = 50;
  let batch = "";
  for (let i = 0; i < n; i++) batch += i % 2 === 0 ? "llookup:big.pipe@alice\n" : `noop:0\n`;
  o.raw(batch);
  const expected = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? `data:${big}` : "data:ok")).join("\n@alice@") + "\n@alice@";
  const text = await o.until((r) => r.length >= expected.length, 20_000);
  expect(text.length).toBe(expected.length);
  expect(text === expected).toBe(true);
  o.close();
}, 30_000);

test("random garbage lines are each answered with an error and never stall the connection", async () => {
  const c = await f.connect();
  const o = await f.connectOwner();
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const alphabet = "abcdefghijklmnopqrstuvwxyz:@._- 0123456789{}[]\"\\*+?()$^|\t\u00e9\u{1f600}";
  const verbs = ["", "update:", "lookup:", "llookup:", "plookup:", "scan", "scan ", "from:", "cram:", "pkam:", "delete:", "stats:", "sync:from:", "config:", "notify:", "batch:", "noop:", "enroll:", "keys:", "otp:", "monitor:"];
  for (let i = 0; i < 300; i++) {
    let line = verbs[Math.floor(rand() * verbs.length)]!;
    const len = Math.floor(rand() * 60);
    for (let j = 0; j < len; j++) line += [...alphabet][Math.floor(rand() * [...alphabet].length)];
    line = line.replace(/\n/g, "");
    // An empty line is answered with a bare prompt (tested elsewhere); @exit closes.
    if (line.trim() === "" || line.trim().toLowerCase() === "@exit") continue;
    for (const client of [c, o]) {
      const r = await client.send(line);
      expect(r.startsWith("data:") || r.startsWith("error:")).toBe(true);
    }
  }
  expect(await c.send("noop:0")).toBe("data:ok");
  expect(await o.send("noop:0")).toBe("data:ok");
  c.close();
  o.close();
});
