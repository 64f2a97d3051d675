/**
 * kill -9 of a hosting process (`bun server.ts --hosted DIR`, a child process) in the middle of a burst of
 * notifications between two of its @signs, then a restart on the same folder: every notification the sender
 * acknowledged reaches the recipient (the sender's queue is opened at start), and acknowledged writes are there.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cramDigest } from "../../core/crypto/index.ts";
import { serviceTls } from "../../core/net/tls.ts";
import { startDirectory } from "../../directory/index.ts";
import { connectRaw, eventually, rawAsk, type RawClient } from "../notify/helpers.ts";
import type { Created } from "./hosting_fixture.ts";

/** Notifications per burst (INLAY_HOSTING_KILL9_N). */
const N = Number(process.env.INLAY_HOSTING_KILL9_N ?? 400);
/** Lines the client writes ahead of their answers. */
const CLIENT_WINDOW_LINES = 32;
/** How long the child may take to say it is hosting. */
const CHILD_START_TIMEOUT_MS = 20_000;
const DELIVERY_DEADLINE_MS = 60_000;
const ROOT = join(import.meta.dir, "..", "..");

let home: string;
let dir: Awaited<ReturnType<typeof startDirectory>>;
let ca: string;
let apiPort: number;
let child: ReturnType<typeof Bun.spawn> | null = null;
let ka: Created;
let kb: Created;

async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = l.port;
  l.stop(true);
  return p;
}

async function startChild(): Promise<void> {
  const proc = Bun.spawn(
    [
      process.execPath, join(ROOT, "server.ts"), "--hosted", join(home, "hosted"),
      "--host", "127.0.0.1", "--public-host", "127.0.0.1", "--api-host", "127.0.0.1", "--api-port", String(apiPort),
      "--directory", `127.0.0.1:${dir.port}`, "--directory-admin", dir.adminUrl, "--token", dir.token,
    ],
    { env: { ...process.env, INLAY_HOME: home }, stdout: "pipe", stderr: "inherit" },
  );
  child = proc;
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let out = "";
  const deadline = Date.now() + CHILD_START_TIMEOUT_MS;
  while (!out.includes("provisioning API on")) {
    if (Date.now() > deadline) throw new Error(`the hosting process did not start: ${out}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`the hosting process exited: ${out}`);
    out += decoder.decode(value);
  }
  reader.releaseLock();
}

async function create(atSign: string): Promise<Created> {
  const token = readFileSync(join(home, "hosted", "admin.token"), "utf8").trim();
  const res = await fetch(`http://127.0.0.1:${apiPort}/v1/tenants`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ atSign }) });
  if (res.status !== 201) throw new Error(`create ${atSign}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Created;
}

async function owner(t: Created): Promise<RawClient> {
  const c = await connectRaw(t.port, ca);
  const challenge = (await rawAsk(c, `from:${t.atSign}`)).slice(5);
  const r = await rawAsk(c, `cram:${await cramDigest(t.cramSecret, challenge)}`);
  if (r !== "data:success") throw new Error(`cram failed: ${r}`);
  c.take();
  return c;
}

/** Pipelines notify lines [from, to) from @ka to @kb; the ids acknowledged before the connection ended. */
async function burst(from: number, to: number, onAck: (acked: number) => void): Promise<string[]> {
  const c = await owner(ka);
  const acked: string[] = [];
  let next = from;
  let buf = "";
  return await new Promise<string[]>((resolve) => {
    const fill = () => {
      for (; next < to && next - from - acked.length < CLIENT_WINDOW_LINES; next++) c.write(`notify:id:h9-${next}:update:@kb:h9.n${next}@ka:v${next}\n`);
    };
    c.until(() => {
      buf += c.take();
      for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl).replace(/^@(?:[^\s:@]+@)?/, "");
        buf = buf.slice(nl + 1);
        if (!line.startsWith("data:")) throw new Error(`unexpected answer ${line}`);
        acked.push(line.slice(5));
        onAck(acked.length);
      }
      if (from + acked.length === to) {
        c.close();
        resolve(acked);
      } else fill();
      return false;
    }, DELIVERY_DEADLINE_MS).catch(() => resolve(acked));
    fill();
  });
}

async function receivedByKb(): Promise<Set<string>> {
  const c = await owner(kb);
  try {
    const answer = await rawAsk(c, "notify:list:h9\\.");
    return answer === "data:null" ? new Set() : new Set((JSON.parse(answer.slice(5)) as { id: string }[]).map((n) => n.id));
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "inlay-hosting-kill9-"));
  const tls = await serviceTls({ home });
  ca = tls.ca!;
  dir = await startDirectory({ host: "127.0.0.1", port: 0, adminHost: "127.0.0.1", adminPort: 0, dataDir: join(home, "directory"), tls: { key: tls.key, cert: tls.cert } });
  apiPort = await freePort();
  await startChild();
  [ka, kb] = [await create("@ka"), await create("@kb")];
}, 60_000);

afterAll(async () => {
  child?.kill(9);
  await child?.exited;
  await dir.stop();
  rmSync(home, { recursive: true, force: true });
});

test(`kill -9 of the hosting process in the middle of ${N} notifications between two of its @signs loses none acknowledged`, async () => {
  const w = await owner(ka);
  expect(await rawAsk(w, "update:@ka:before.kill@ka durable")).toMatch(/^data:\d+$/);
  w.close();
  let killed: Promise<void> | null = null;
  let acked = await burst(0, N, (n) => {
    if (n === Math.floor(N / 2) && !killed) {
      const victim = child!;
      victim.kill(9);
      killed = victim.exited.then(() => startChild());
    }
  });
  await killed;
  if (acked.length < N) acked = [...acked, ...(await burst(acked.length, N, () => {}))];
  expect(new Set(acked).size).toBe(N);
  let got = new Set<string>();
  await eventually(async () => {
    got = await receivedByKb();
    return acked.every((id) => got.has(id));
  }, DELIVERY_DEADLINE_MS, 250);
  expect(acked.filter((id) => !got.has(id))).toEqual([]);
  const r = await owner(ka);
  expect(await rawAsk(r, "llookup:@ka:before.kill@ka")).toBe("data:durable");
  r.close();
}, DELIVERY_DEADLINE_MS + 60_000);
