/**
 * A hosting process as a child (`bun server.ts --hosted DIR`, fixed API port so a restart keeps it), a directory
 * in this process, and the calls the tests and measurements make on them. Used by the kill -9 test and
 * measure_rss.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cramDigest } from "../../core/crypto/index.ts";
import { serviceTls } from "../../core/net/tls.ts";
import { startDirectory } from "../../directory/index.ts";
import { freePort } from "../notify/child_stack.ts";
import { connectRaw, rawAsk, type RawClient } from "../notify/helpers.ts";
import type { Created } from "./hosting_fixture.ts";

/** How long the child may take to say it is hosting. */
const CHILD_START_TIMEOUT_MS = 60_000;
const ROOT = join(import.meta.dir, "..", "..");

export interface ChildHosting {
  home: string;
  ca: string;
  /** The running child (null while stopped). */
  proc(): ReturnType<typeof Bun.spawn> | null;
  /** Starts (or restarts) the child; resolves once its provisioning API listens. */
  start(): Promise<void>;
  /** SIGKILLs the child and waits for it to exit. */
  kill9(): Promise<void>;
  /** Provisions `atSign` through the child's API. */
  create(atSign: string): Promise<Created>;
  /** A CRAM-authenticated raw owner client of a tenant. */
  owner(t: Created): Promise<RawClient>;
  stop(): Promise<void>;
}

/** Reads the child's stdout until it says its API listens. */
async function untilHosting(proc: ReturnType<typeof Bun.spawn>): Promise<void> {
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

/** Starts a directory here and the hosting child on a new temp folder. */
export async function startChildHosting(): Promise<ChildHosting> {
  const home = mkdtempSync(join(tmpdir(), "inlay-hosting-child-"));
  const tls = await serviceTls({ home });
  const ca = tls.ca!;
  const dir = await startDirectory({ host: "127.0.0.1", port: 0, adminHost: "127.0.0.1", adminPort: 0, dataDir: join(home, "directory"), tls: { key: tls.key, cert: tls.cert } });
  const apiPort = await freePort();
  let child: ReturnType<typeof Bun.spawn> | null = null;
  const h: ChildHosting = {
    home,
    ca,
    proc: () => child,
    async start() {
      child = Bun.spawn(
        [
          process.execPath, join(ROOT, "server.ts"), "--hosted", join(home, "hosted"),
          "--host", "127.0.0.1", "--public-host", "127.0.0.1", "--api-host", "127.0.0.1", "--api-port", String(apiPort),
          "--directory", `127.0.0.1:${dir.port}`, "--directory-admin", dir.adminUrl, "--token", dir.token,
        ],
        { env: { ...process.env, INLAY_HOME: home }, stdout: "pipe", stderr: "inherit" },
      );
      await untilHosting(child);
    },
    async kill9() {
      const victim = child;
      child = null;
      victim?.kill(9);
      await victim?.exited;
    },
    async create(atSign) {
      const token = readFileSync(join(home, "hosted", "admin.token"), "utf8").trim();
      const res = await fetch(`http://127.0.0.1:${apiPort}/v1/tenants`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ atSign }) });
      if (res.status !== 201) throw new Error(`create ${atSign}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Created;
    },
    async owner(t) {
      const c = await connectRaw(t.port, ca);
      const challenge = (await rawAsk(c, `from:${t.atSign}`)).slice(5);
      const r = await rawAsk(c, `cram:${await cramDigest(t.cramSecret, challenge)}`);
      if (r !== "data:success") throw new Error(`cram failed: ${r}`);
      c.take();
      return c;
    },
    async stop() {
      await h.kill9();
      await dir.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
  await h.start();
  return h;
}
