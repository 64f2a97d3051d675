/**
 * The production build (ops/build.ts, what the Dockerfile ships) works, not only the TypeScript sources: every
 * bundled entry answers --help, and a bundled directory and a bundled atServer run together — the server
 * registers itself, the directory resolves it, and the server answers on the wire. Bundling rewrites imports
 * and drops unused code, so a mistake there (a lazily imported module, a top-level side effect the bundler
 * reorders) would show up here and nowhere else.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rootResolver } from "../client/connection/root_lookup.ts";
import { trustedCas } from "../core/net/tls.ts";
import { BUILD_ENTRIES, PRODUCTION_ENV, buildEntries } from "../ops/build.ts";
import { connectWire } from "./wire_client.ts";

/** Longest wait for a bundled service's ready line. */
const READY_TIMEOUT_MS = 20_000;

let dir: string;
let home: string;
const children: Bun.Subprocess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "inlay-dist-"));
  home = mkdtempSync(join(tmpdir(), "inlay-dist-home-"));
  await buildEntries(dir);
});
afterAll(async () => {
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(children.map((c) => c.exited));
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

const env = () => ({ ...process.env, ...PRODUCTION_ENV, INLAY_HOME: home, INLAY_LOG: "silent" });

test("the Dockerfile runs the bundles with PRODUCTION_ENV", () => {
  const dockerfile = readFileSync(join(import.meta.dir, "..", "Dockerfile"), "utf8");
  const envLine = dockerfile.split("\n").find((l) => l.startsWith("ENV ")) ?? "";
  for (const [k, v] of Object.entries(PRODUCTION_ENV)) expect(envLine.split(/\s+/)).toContain(`${k}=${v}`);
});

/** Starts a bundled entry and resolves with the first stdout match of `ready`. */
async function start(entry: string, args: string[], ready: RegExp): Promise<RegExpExecArray> {
  const proc = Bun.spawn(["bun", join(dir, entry), ...args], { env: env(), stdout: "pipe", stderr: "inherit" });
  children.push(proc);
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let out = "";
  for (;;) {
    const m = ready.exec(out);
    if (m) {
      reader.releaseLock();
      return m;
    }
    if (Date.now() > deadline) throw new Error(`${entry}: no ready line within ${READY_TIMEOUT_MS} ms; got: ${out}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`${entry} exited before its ready line; got: ${out}`);
    out += decoder.decode(value, { stream: true });
  }
}

test("every bundled entry answers --help", () => {
  for (const entry of BUILD_ENTRIES.filter((e) => !e.startsWith("ops/"))) {
    const r = Bun.spawnSync(["bun", join(dir, entry.replace(/\.ts$/, ".js")), "--help"], { env: env() });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.toString()).toContain("--");
  }
});

test("a bundled directory and a bundled atServer: registration, lookup, a verb on the wire", async () => {
  const token = crypto.randomUUID();
  const [, dirPort, adminPort] = await start(
    "directory.js",
    ["--host", "127.0.0.1", "--port", "0", "--admin-port", "0", "--token", token],
    /directory listening on 127\.0\.0\.1:(\d+)\nadmin API on http:\/\/127\.0\.0\.1:(\d+)/,
  );
  const [, serverPort] = await start(
    "server.js",
    ["@bundled", "--host", "127.0.0.1", "--port", "0", "--public-host", "127.0.0.1", "--directory", `127.0.0.1:${dirPort}`, "--directory-admin", `http://127.0.0.1:${adminPort}`, "--token", token],
    /@bundled listening on 127\.0\.0\.1:(\d+)/,
  );
  const ca = trustedCas({ home });
  expect(await rootResolver({ host: "127.0.0.1", port: Number(dirPort) }, ca).resolve("@bundled")).toEqual({ host: "127.0.0.1", port: Number(serverPort) });
  const wire = await connectWire(Number(serverPort), ca);
  try {
    expect(await wire.send("lookup:publickey@bundled")).toStartWith("error:");
    expect(await wire.send("info")).toStartWith("data:{");
  } finally {
    wire.close();
  }
});
