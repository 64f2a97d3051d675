/**
 * Starts a real atServer for tests: temp INLAY_HOME with its own dev CA, temp data folder, 127.0.0.1:0.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cramDigest } from "../core/crypto/index.ts";
import { serviceTls } from "../core/net/tls.ts";
import type { ListenerLimits } from "../server/listener.ts";
import { startServer, type RunningServer, type ServerOptions } from "../server/index.ts";
import { connectWire, type WireClient } from "./wire_client.ts";

/** A server under test and what a client needs to reach it. */
export interface ServerFixture {
  server: RunningServer;
  atSign: string;
  /** PEM of the dev CA that issued the server's certificate. */
  ca: string;
  home: string;
  dataDir: string;
  /** A new unauthenticated client. */
  connect(): Promise<WireClient>;
  /** A new client authenticated with CRAM. */
  connectOwner(): Promise<WireClient>;
  /** Stops and starts the server again on the same data folder (new port). */
  restart(): Promise<void>;
  /** Stops the server and removes the temp folders. */
  stop(): Promise<void>;
}

/** Authenticates `c` with CRAM; resolves with the cram answer. */
export async function cramAuth(c: WireClient, atSign: string, secret: string): Promise<string> {
  const challenge = (await c.send(`from:${atSign}`)).replace(/^data:/, "");
  const answer = await c.send(`cram:${await cramDigest(secret, challenge)}`, [`${atSign}@`, "@"]);
  if (answer === "data:success") c.prompt = `${atSign}@`;
  return answer;
}

/**
 * Starts `@alice` (or `atSign`) with a fixed CRAM secret.
 * @example const f = await startServerFixture(); const c = await f.connectOwner();
 */
export async function startServerFixture(opts: { atSign?: string; limits?: Partial<ListenerLimits>; extra?: Partial<ServerOptions> } = {}): Promise<ServerFixture> {
  const home = mkdtempSync(join(tmpdir(), "inlay-server-test-"));
  const dataDir = join(home, "data");
  const atSign = opts.atSign ?? "@alice";
  const tls = await serviceTls({ home });
  const base: ServerOptions = {
    atSign,
    host: "127.0.0.1",
    port: 0,
    dataDir,
    cramSecret: "b".repeat(128),
    tls: { key: tls.key, cert: tls.cert },
    limits: opts.limits,
    ...opts.extra,
  };
  const f: ServerFixture = {
    server: await startServer(base),
    atSign,
    ca: tls.ca!,
    home,
    dataDir,
    connect: () => connectWire(f.server.port, f.ca),
    async connectOwner() {
      const c = await f.connect();
      const r = await cramAuth(c, atSign, f.server.cramSecret);
      if (r !== "data:success") throw new Error(`cram failed: ${r}`);
      return c;
    },
    async restart() {
      await f.server.stop();
      f.server = await startServer(base);
    },
    async stop() {
      await f.server.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
  return f;
}
