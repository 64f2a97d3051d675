import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serviceTls } from "../core/net/tls.ts";
import { connectWire, type WireClient } from "../test/wire_client.ts";
import { idleLimitMs, newLineActivity, startListener, type LineActivity, type LineHandler, type Listener, type ListenerLimits } from "./listener.ts";

const home = mkdtempSync(join(tmpdir(), "inlay-listener-"));
const tls = await serviceTls({ home });
const running: Listener[] = [];
const clients: WireClient[] = [];
afterAll(() => {
  for (const c of clients) c.close();
  for (const l of running) l.stop();
  rmSync(home, { recursive: true, force: true });
});

test("idle limits stay full up to half the pool, then shrink linearly to the floor", () => {
  expect(idleLimitMs(60_000, 5_000, 0.1)).toBe(60_000);
  expect(idleLimitMs(60_000, 5_000, 0.5)).toBe(60_000);
  expect(idleLimitMs(60_000, 5_000, 0.75)).toBe(32_500);
  expect(idleLimitMs(60_000, 5_000, 1)).toBe(5_000);
  expect(idleLimitMs(1_000, 5_000, 1)).toBe(1_000);
});

/** Handler time of one `spin`: an expensive synchronous command (a catastrophic regex stands in for it). */
const SPIN_MS = 100;
/** Commands the stranger pipelines in one write (the pending-line bound). */
const SPINS = 16;

const handler: LineHandler = {
  handleLine(_conn, line) {
    if (line === "spin") {
      const end = performance.now() + SPIN_MS;
      while (performance.now() < end);
      return "data:spun\n@";
    }
    return "data:pong\n@";
  },
};

async function listen(limits: Partial<ListenerLimits>, activity?: LineActivity): Promise<Listener> {
  const l = startListener({ host: "127.0.0.1", port: 0, tls: { key: tls.key, cert: tls.cert }, limits, handler, activity });
  running.push(l);
  return l;
}

async function connect(l: Listener): Promise<WireClient> {
  const c = await connectWire(l.port, tls.ca!);
  clients.push(c);
  return c;
}

/**
 * A stranger pipelines SPINS expensive commands; once its first answer is in, the owner sends `pings` pings (on
 * `ownerL`, default the same listener). Returns the spins done by then.
 */
async function strangerAgainstOwner(l: Listener, pings: number, ownerL = l): Promise<number> {
  const [stranger, owner] = [await connect(l), await connect(ownerL)];
  const spun = () => stranger.chunks.join("").split("data:spun").length - 1;
  stranger.raw("spin\n".repeat(SPINS));
  await stranger.until((got) => got.includes("data:spun"));
  for (let i = 0; i < pings; i++) expect(await owner.send("ping")).toBe("data:pong");
  const done = spun();
  stranger.close();
  owner.close();
  return done;
}

test("pipelined expensive commands from one connection yield: another connection is answered in between", async () => {
  // cpuShare 1: no budget, so only the yielding between commands is under test.
  const l = await listen({ cpuShare: 1 });
  expect(await strangerAgainstOwner(l, 1)).toBeLessThan(SPINS);
});

test("a connection over its CPU share waits while others are served", async () => {
  const l = await listen({ cpuShare: 0.05, cpuBurstMs: SPIN_MS });
  // Taking turns alone, the stranger would finish all its spins before the owner's 400th ping.
  expect(await strangerAgainstOwner(l, 400)).toBeLessThan(SPINS);
});

test("listeners sharing one activity record (hosting: one per @sign) charge the CPU share across them", async () => {
  const limits = { cpuShare: 0.05, cpuBurstMs: SPIN_MS };
  // Apart, neither listener sees the other's connection: the stranger is never charged and finishes every spin.
  expect(await strangerAgainstOwner(await listen(limits), 400, await listen(limits))).toBe(SPINS);
  const shared = newLineActivity();
  expect(await strangerAgainstOwner(await listen(limits, shared), 400, await listen(limits, shared))).toBeLessThan(SPINS);
});
