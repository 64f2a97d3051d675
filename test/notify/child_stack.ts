/**
 * A directory in this process and atServers as child processes (`bun server.ts @x --data DIR`), on fixed
 * ports so a restarted server keeps its address. Used by the kill -9 test and the notification measurements.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cramDigest } from "../../core/crypto/index.ts";
import { serviceTls } from "../../core/net/tls.ts";
import { startDirectory } from "../../directory/index.ts";
import { connectRaw, rawAsk, type RawClient } from "./helpers.ts";

/** CRAM secret of every child server. */
export const CHILD_SECRET = "c".repeat(128);
/** How long a child may take to print that it listens. */
const CHILD_START_TIMEOUT_MS = 20_000;
const ROOT = join(import.meta.dir, "..", "..");

/** The running stack. */
export interface ChildStack {
  home: string;
  ca: string;
  /** Starts (or restarts) the server of `atSign`; resolves once it listens. */
  start(atSign: string): Promise<void>;
  /** SIGKILLs the server of `atSign` and waits for it to exit. */
  kill9(atSign: string): Promise<void>;
  /** An owner-authenticated raw client of `atSign`. */
  owner(atSign: string): Promise<RawClient>;
  stop(): Promise<void>;
}

/** A port free right now on 127.0.0.1 (for a child that must keep its address across restarts). */
export async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const p = l.port;
  l.stop(true);
  return p;
}

/**
 * Starts the directory and one child server per @sign.
 * @example const s = await startChildStack(["@alice", "@bob"]); await s.kill9("@bob"); await s.start("@bob");
 */
export async function startChildStack(atSigns: string[]): Promise<ChildStack> {
  const home = mkdtempSync(join(tmpdir(), "inlay-children-"));
  const tls = await serviceTls({ home });
  const ca = tls.ca!;
  const dir = await startDirectory({ host: "127.0.0.1", port: 0, adminHost: "127.0.0.1", adminPort: 0, dataDir: join(home, "directory"), tls: { key: tls.key, cert: tls.cert } });
  const ports = new Map<string, number>();
  const procs = new Map<string, ReturnType<typeof Bun.spawn>>();
  for (const a of atSigns) ports.set(a, await freePort());

  const start = async (atSign: string) => {
    const proc = Bun.spawn(
      [
        process.execPath, join(ROOT, "server.ts"), atSign,
        "--host", "127.0.0.1", "--port", String(ports.get(atSign)), "--public-host", "127.0.0.1",
        "--data", join(home, "servers", atSign), "--cram-secret", CHILD_SECRET,
        "--directory", `127.0.0.1:${dir.port}`, "--directory-admin", dir.adminUrl, "--token", dir.token,
      ],
      { env: { ...process.env, INLAY_HOME: home }, stdout: "pipe", stderr: "inherit" },
    );
    procs.set(atSign, proc);
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let out = "";
    const deadline = Date.now() + CHILD_START_TIMEOUT_MS;
    while (!out.includes("listening on")) {
      if (Date.now() > deadline) throw new Error(`${atSign} did not start: ${out}`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`${atSign} exited: ${out}`);
      out += decoder.decode(value);
    }
    reader.releaseLock();
  };
  const kill9 = async (atSign: string) => {
    const p = procs.get(atSign);
    if (!p) return;
    p.kill(9);
    await p.exited;
  };
  await Promise.all(atSigns.map(start));
  return {
    home,
    ca,
    start,
    kill9,
    async owner(atSign) {
      const c = await connectRaw(ports.get(atSign)!, ca);
      const challenge = (await rawAsk(c, `from:${atSign}`)).slice(5);
      const r = await rawAsk(c, `cram:${await cramDigest(CHILD_SECRET, challenge)}`);
      if (r !== "data:success") throw new Error(`cram failed: ${r}`);
      c.take();
      return c;
    },
    async stop() {
      for (const a of procs.keys()) await kill9(a);
      await dir.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
