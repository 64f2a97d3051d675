/**
 * End-to-end test stack: a directory and one atServer per @sign, all on 127.0.0.1 ephemeral ports, with a
 * temp INLAY_HOME holding the dev CA (its certificate at `caFile`). Servers register themselves in the
 * directory. Nothing is shared between stacks, so test files can run side by side.
 *
 * @example
 * ```ts
 * const stack = await startStack({ atSigns: ["@alice", "@bob"] });
 * const alice = stack.servers.get("@alice")!; // { port, cramSecret, ... }
 * await stack.stop();
 * ```
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { normalizeAtSign } from "../core/atsign.ts";
import { devCaPath } from "../core/crypto/dev_ca.ts";
import { serviceTls } from "../core/net/tls.ts";
import { startDirectory } from "../directory/index.ts";
import { startServer, type RunningServer } from "../server/index.ts";

/** Host every service of a stack listens on and publishes. */
export const STACK_HOST = "127.0.0.1";

/** A running stack. */
export interface Stack {
  /** Temp INLAY_HOME (dev CA under `ca/`, servers' data under `servers/`). */
  home: string;
  /** PEM file of the dev CA every service certificate chains to. */
  caFile: string;
  /** PEM text of that CA. */
  ca: string;
  directory: { host: string; port: number; adminUrl: string; token: string };
  /** Running servers by canonical @sign (`port`, `cramSecret`, `onboarded()`, `stop()`). */
  servers: Map<string, RunningServer>;
  /** Starts one more server in this stack (registered in its directory). */
  addServer(atSign: string): Promise<RunningServer>;
  /** Stops every service and deletes the temp home. */
  stop(): Promise<void>;
}

/**
 * Starts a directory and the servers of `atSigns`.
 * @example const stack = await startStack({ atSigns: ["@alice"] })
 */
export async function startStack(opts: { atSigns: string[] }): Promise<Stack> {
  const home = mkdtempSync(join(tmpdir(), "inlay-stack-"));
  const tls = await serviceTls({ home });
  const ca = tls.ca!;
  const dir = await startDirectory({
    host: STACK_HOST,
    port: 0,
    adminHost: STACK_HOST,
    adminPort: 0,
    dataDir: join(home, "directory"),
    tls: { key: tls.key, cert: tls.cert },
  });
  const servers = new Map<string, RunningServer>();
  const addServer = async (raw: string) => {
    const atSign = normalizeAtSign(raw);
    const server = await startServer({
      atSign,
      host: STACK_HOST,
      port: 0,
      publicHost: STACK_HOST,
      dataDir: join(home, "servers", atSign),
      tls: { key: tls.key, cert: tls.cert },
      directory: { host: dir.host, port: dir.port, ca: [ca] },
      directoryAdmin: { url: dir.adminUrl, token: dir.token },
    });
    servers.set(atSign, server);
    return server;
  };
  try {
    for (const a of opts.atSigns) await addServer(a);
  } catch (err) {
    for (const s of servers.values()) await s.stop();
    await dir.stop();
    rmSync(home, { recursive: true, force: true });
    throw err;
  }
  return {
    home,
    caFile: devCaPath(home),
    ca,
    directory: { host: dir.host, port: dir.port, adminUrl: dir.adminUrl, token: dir.token },
    servers,
    addServer,
    async stop() {
      for (const s of servers.values()) await s.stop();
      await dir.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
