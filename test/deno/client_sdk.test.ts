/**
 * The client SDK end to end, on whichever runtime runs this file: `bun test test/deno` and, through the
 * bun:test shim, `bun run deno:test`. The services are Bun-only, so they run as child processes exactly as a
 * user starts them (`bun directory.ts`, `bun server.ts @x`, port 0, a temp INLAY_HOME) and their ready lines
 * give the ports and the CRAM secrets. The SDK then onboards with CRAM and moves self, public and shared values
 * and one notification through real TLS connections.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AtClient, type ConnectOptions } from "../../client/at_client.ts";
import { parseRecord } from "../../client/data/record.ts";
import type { AtNotification } from "../../client/monitor/notification.ts";
import { devCaPath } from "../../core/crypto/dev_ca.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const HOST = "127.0.0.1";
/** Deadline for a service to print its ready line (start-up includes key generation). */
const READY_TIMEOUT_MS = 20_000;
/** Deadline for a service to exit after SIGTERM before it is killed. */
const EXIT_TIMEOUT_MS = 5_000;
/** Most output kept per service for the failure message. */
const OUTPUT_LIMIT_CHARS = 64 * 1024;
/** Deadline for a notification to reach the monitor. */
const DELIVERY_TIMEOUT_MS = 20_000;

interface Service {
  proc: ChildProcess;
  /** The capture groups of each ready pattern, in order. */
  found: string[][];
}

let home: string;
const services: Service[] = [];
let alice: AtClient;
let bob: AtClient;

/**
 * Runs `bun <entry> ...args` in the temp home and waits until stdout matched every pattern in `ready`.
 * Rejects with the output so far when the process exits or the deadline passes first.
 */
function startService(entry: string, args: string[], ready: RegExp[]): Promise<Service> {
  const proc = spawn("bun", [join(ROOT, entry), ...args], {
    cwd: ROOT,
    env: { ...process.env, INLAY_HOME: home, INLAY_LOG: "silent" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const service: Service = { proc, found: [] };
  services.push(service);
  let out = "";
  return new Promise<Service>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`bun ${entry} ${why}; output:\n${out}`));
    };
    const timer = setTimeout(() => fail(`printed no ready line within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    const take = (chunk: Buffer) => {
      if (out.length < OUTPUT_LIMIT_CHARS) out += chunk.toString();
      const found = ready.map((r) => r.exec(out));
      if (found.every((m) => m !== null)) {
        clearTimeout(timer);
        service.found = found.map((m) => m!.slice(1));
        resolve(service);
      }
    };
    proc.stdout!.on("data", take);
    proc.stderr!.on("data", (c: Buffer) => out.length < OUTPUT_LIMIT_CHARS && (out += c.toString()));
    proc.on("error", (e) => fail(`did not start: ${e.message}`));
    proc.on("exit", (code) => fail(`exited with ${code}`));
  });
}

/** SIGTERM, then SIGKILL if the process outlives EXIT_TIMEOUT_MS. */
async function stopService(s: Service): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => s.proc.once("exit", () => r()));
  s.proc.kill("SIGTERM");
  const timer = setTimeout(() => s.proc.kill("SIGKILL"), EXIT_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** Starts an atServer for `atSign` registered in the directory; returns its CRAM secret. */
async function startAtServer(atSign: string, directory: string, adminUrl: string): Promise<string> {
  const s = await startService(
    "server.ts",
    [atSign, "--host", HOST, "--port", "0", "--public-host", HOST, "--directory", directory, "--directory-admin", adminUrl],
    [new RegExp(`${atSign} listening on ${HOST}:(\\d+)`), /--cram ([0-9a-f]+)/],
  );
  return s.found[1]![0]!;
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "inlay-sdk-e2e-"));
  const dir = await startService("directory.ts", ["--host", HOST, "--port", "0", "--admin-port", "0"], [
    new RegExp(`directory listening on ${HOST}:(\\d+)`),
    /admin API on (http:\/\/\S+)/,
  ]);
  const directory = `${HOST}:${dir.found[0]![0]}`;
  const adminUrl = dir.found[1]![0]!;
  const [aliceCram, bobCram] = await Promise.all([startAtServer("@alice", directory, adminUrl), startAtServer("@bob", directory, adminUrl)]);
  const net: ConnectOptions = { directory, caFile: devCaPath(home), home };
  const [a, b] = await Promise.all([
    AtClient.onboard("@alice", aliceCram!, { ...net, keysFile: join(home, "keys", "alice.atKeys") }),
    AtClient.onboard("@bob", bobCram!, { ...net, keysFile: join(home, "keys", "bob.atKeys") }),
  ]);
  alice = a.client;
  bob = b.client;
});

afterAll(async () => {
  alice?.close();
  bob?.close();
  await Promise.all(services.map(stopService));
  rmSync(home, { recursive: true, force: true });
});

describe("client SDK against bun-run services", () => {
  test("self values round trip and are stored encrypted", async () => {
    await alice.put("phone.wavi", "+1-555-0100");
    expect((await alice.get("phone.wavi")).value).toBe("+1-555-0100");
    const raw = parseRecord(await alice.command("llookup:all:phone.wavi@alice"), "phone.wavi@alice")!;
    expect(raw.meta.isEncrypted).toBe(true);
    expect(raw.data).not.toContain("555");
  });

  test("bob reads alice's signed public value", async () => {
    await alice.put("public:card.app", "alice in wonderland");
    expect((await bob.get("public:card.app@alice")).value).toBe("alice in wonderland");
  });

  test("a value alice shares with bob: she reads it back, bob decrypts it through his server", async () => {
    await alice.put("@bob:note.app", "for bob only");
    expect((await alice.get("@bob:note.app")).value).toBe("for bob only");
    expect((await bob.get("note.app@alice")).value).toBe("for bob only");
  });

  test("bob's monitor yields alice's notification decrypted", async () => {
    const m = bob.monitor({ regex: "ping\\.wavi" });
    await m.ready;
    const got: AtNotification[] = [];
    const done = (async () => {
      for await (const n of m) got.push(n);
    })();
    const id = await alice.notify("@bob", "ping.wavi", "pong");
    const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
    while (!got.some((n) => n.id === id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    m.close();
    await done;
    expect(got.find((n) => n.id === id)).toMatchObject({ from: "@alice", to: "@bob", key: "@bob:ping.wavi@alice", value: "pong" });
  });
});
