/**
 * A directory and one atServer per @sign as child processes (`bun directory.ts`, `bun server.ts @x`, port 0,
 * a temp INLAY_HOME), for SDK code running on another runtime than the services: the services are Bun-only,
 * the SDK also runs on Deno. Ready lines on stdout give the ports and the CRAM secrets. Uses only node:
 * modules, so it loads on Bun and Deno (Deno needs --allow-run=bun --allow-env --allow-read --allow-write).
 *
 * @example
 * ```ts
 * const stack = await startSpawnedStack(["@alice"]);
 * await AtClient.onboard("@alice", stack.cramSecrets.get("@alice")!, { ...stack.net, keysFile });
 * await stack.stop();
 * ```
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ConnectOptions } from "../../client/at_client.ts";
import { devCaPath } from "../../core/crypto/dev_ca.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Every service listens on and publishes this address. */
export const SPAWNED_HOST = "127.0.0.1";
/** Deadline for a service to print its ready lines (start-up includes key generation). */
export const READY_TIMEOUT_MS = 20_000;
/** Deadline for a service to exit after SIGTERM before it is killed. */
export const EXIT_TIMEOUT_MS = 5_000;
/** Most output kept per service for the failure message. */
const OUTPUT_LIMIT_CHARS = 64 * 1024;

/** A running stack of child processes. */
export interface SpawnedStack {
  /** Temp INLAY_HOME shared by the services (dev CA, data). */
  home: string;
  /** What an SDK client needs to find and trust the services. */
  net: ConnectOptions;
  /** CRAM secret per canonical @sign, for onboarding. */
  cramSecrets: Map<string, string>;
  /** SIGTERMs every service (SIGKILL after EXIT_TIMEOUT_MS) and deletes the home. */
  stop(): Promise<void>;
}

interface Service {
  proc: ChildProcess;
  /** The capture groups of each ready pattern, in order. */
  found: string[][];
}

/**
 * Starts the directory, then the servers of `atSigns` side by side. On failure everything started is stopped.
 * @example const stack = await startSpawnedStack(["@alice", "@bob"]);
 */
export async function startSpawnedStack(atSigns: string[]): Promise<SpawnedStack> {
  const home = mkdtempSync(join(tmpdir(), "inlay-spawned-"));
  const services: Service[] = [];
  const stop = async () => {
    await Promise.all(services.map(stopService));
    rmSync(home, { recursive: true, force: true });
  };
  try {
    const dir = await startService(home, services, "directory.ts", ["--host", SPAWNED_HOST, "--port", "0", "--admin-port", "0"], [
      new RegExp(`directory listening on ${SPAWNED_HOST}:(\\d+)`),
      /admin API on (http:\/\/\S+)/,
    ]);
    const directory = `${SPAWNED_HOST}:${dir.found[0]![0]}`;
    const adminUrl = dir.found[1]![0]!;
    const servers = await Promise.all(
      atSigns.map((atSign) =>
        startService(
          home,
          services,
          "server.ts",
          [atSign, "--host", SPAWNED_HOST, "--port", "0", "--public-host", SPAWNED_HOST, "--directory", directory, "--directory-admin", adminUrl],
          [new RegExp(`${atSign} listening on ${SPAWNED_HOST}:(\\d+)`), /--cram ([0-9a-f]+)/],
        ),
      ),
    );
    const cramSecrets = new Map(atSigns.map((a, i) => [a, servers[i]!.found[1]![0]!]));
    return { home, net: { directory, caFile: devCaPath(home), home }, cramSecrets, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Runs `bun <entry> ...args` in `home` and waits until stdout matched every pattern in `ready`; stdout keeps
 * draining afterwards. Rejects with the output so far when the process exits or the deadline passes first.
 */
function startService(home: string, services: Service[], entry: string, args: string[], ready: RegExp[]): Promise<Service> {
  const proc = spawn("bun", [join(ROOT, entry), ...args], {
    cwd: ROOT,
    env: { ...process.env, INLAY_HOME: home, INLAY_LOG: "silent" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const service: Service = { proc, found: [] };
  services.push(service);
  let out = "";
  const keep = (chunk: Buffer) => {
    if (out.length < OUTPUT_LIMIT_CHARS) out += chunk.toString();
  };
  return new Promise<Service>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`bun ${entry} ${why}; output:\n${out}`));
    };
    const timer = setTimeout(() => fail(`printed no ready line within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    proc.stdout!.on("data", (chunk: Buffer) => {
      keep(chunk);
      const found = ready.map((r) => r.exec(out));
      if (found.every((m) => m !== null)) {
        clearTimeout(timer);
        service.found = found.map((m) => m!.slice(1));
        resolve(service);
      }
    });
    proc.stderr!.on("data", keep);
    proc.on("error", (e) => fail(`did not start: ${e.message}`));
    proc.on("exit", (code) => fail(`exited with ${code}`));
  });
}

/** SIGTERM, then SIGKILL if the process outlives EXIT_TIMEOUT_MS. */
async function stopService(s: Service): Promise<void> {
  if (s.proc.pid === undefined || s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => s.proc.once("exit", () => r()));
  s.proc.kill("SIGTERM");
  const timer = setTimeout(() => s.proc.kill("SIGKILL"), EXIT_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
