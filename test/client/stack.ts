/**
 * A real directory and real atServers for the client's end-to-end tests, in one temp INLAY_HOME whose dev CA
 * issued every certificate; the servers register `localhost:<port>` in the directory. (Interim until
 * test/harness.ts startStack lands; same shape.)
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { devCaPath } from "../../core/crypto/dev_ca.ts";
import { serviceTls } from "../../core/net/tls.ts";
import { startDirectory, type Directory } from "../../directory/index.ts";
import { startServer, type RunningServer } from "../../server/index.ts";

/** Services under test. */
export interface ClientStack {
  home: string;
  caFile: string;
  /** `127.0.0.1:<port>` of the directory's root protocol. */
  directory: string;
  servers: Map<string, RunningServer>;
  stop(): Promise<void>;
}

/** Starts a directory and one atServer per @sign on 127.0.0.1 ephemeral ports. */
export async function startClientStack(atSigns: string[]): Promise<ClientStack> {
  const home = mkdtempSync(join(tmpdir(), "inlay-client-e2e-"));
  const tls = serviceTls({ home });
  const caFile = devCaPath(home);
  const dir: Directory = await startDirectory({ port: 0, adminPort: 0, dataDir: join(home, "directory"), tls: { key: tls.key, cert: tls.cert } });
  const servers = new Map<string, RunningServer>();
  for (const atSign of atSigns) {
    servers.set(
      atSign,
      await startServer({
        atSign,
        host: "127.0.0.1",
        port: 0,
        dataDir: join(home, atSign.slice(1)),
        tls: { key: tls.key, cert: tls.cert },
        directory: { host: dir.host, port: dir.port, ca: [readFileSync(caFile, "utf8")] },
        directoryAdmin: { url: dir.adminUrl, token: dir.token },
      }),
    );
  }
  return {
    home,
    caFile,
    directory: `${dir.host}:${dir.port}`,
    servers,
    async stop() {
      for (const s of servers.values()) await s.stop();
      await dir.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
