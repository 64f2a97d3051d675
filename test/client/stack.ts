/**
 * Real atServers for the client's end-to-end tests, in one temp INLAY_HOME whose dev CA issued their
 * certificates. (Interim until test/harness.ts startStack lands: no directory yet, so clients are given the
 * server address directly.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { devCaPath } from "../../core/crypto/dev_ca.ts";
import { serviceTls } from "../../core/net/tls.ts";
import { startServer, type RunningServer } from "../../server/index.ts";

/** Servers under test. */
export interface ClientStack {
  home: string;
  caFile: string;
  servers: Map<string, RunningServer>;
  stop(): Promise<void>;
}

/** Starts one atServer per @sign on 127.0.0.1 ephemeral ports. */
export async function startClientStack(atSigns: string[]): Promise<ClientStack> {
  const home = mkdtempSync(join(tmpdir(), "inlay-client-e2e-"));
  const tls = serviceTls({ home });
  const servers = new Map<string, RunningServer>();
  for (const atSign of atSigns) {
    servers.set(atSign, await startServer({ atSign, host: "127.0.0.1", port: 0, dataDir: join(home, atSign.slice(1)), tls: { key: tls.key, cert: tls.cert } }));
  }
  return {
    home,
    caFile: devCaPath(home),
    servers,
    async stop() {
      for (const s of servers.values()) await s.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
