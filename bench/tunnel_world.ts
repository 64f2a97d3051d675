/**
 * Everything the full tunnel needs, each part in its own process as users run it: a directory and the
 * atServers of the requester, the device and the relay (onboarded through the SDK, .atKeys in the run's temp
 * home), `bun relay.ts` publishing its address, `bun client.ts daemon` on the device side, and
 * `bun client.ts tunnel` processes started on demand.
 */
import { join } from "node:path";
import { AtClient } from "../client/index.ts";
import type { BenchContext, Child } from "./context.ts";
import { serviceEnv, requireEntry, startDirectoryChild, startServerChild } from "./services.ts";

/** The @signs of the tunnel world. */
export const TUNNEL_REQUESTER = "@benchbob";
export const TUNNEL_DEVICE = "@benchdevice";
export const TUNNEL_RELAY = "@benchrelay";
/** How long a tunnel process may take to print its ready line. */
const TUNNEL_READY_TIMEOUT_MS = 30_000;

/** A running `client.ts tunnel` process. */
export interface TunnelProcess {
  child: Child;
  /** Its local listener. */
  port: number;
  /** Process start to ready, as the tunnel itself reports it (`performance.now()` at the ready line). */
  readyMsAfterStart: number;
  /** Spawn (as seen by the bench) to the ready line. */
  readyMsAfterSpawn: number;
}

/** The world, ready for tunnels. */
export interface TunnelWorld {
  relay: Child;
  daemon: Child;
  /** Starts `bun client.ts tunnel` to `to` (HOST:PORT on the device side) and waits for its ready line. */
  startTunnel(to: string): Promise<TunnelProcess>;
}

/** Starts the directory, three atServers, onboarding, the relay and the daemon (permits 127.0.0.1:*). */
export async function startTunnelWorld(ctx: BenchContext): Promise<TunnelWorld> {
  const relayEntry = requireEntry("relay.ts");
  const clientEntry = requireEntry("client.ts");
  const home = ctx.tempDir("inlay-bench-tunnel-");
  const env = serviceEnv(home);
  ctx.progress("tunnel world: directory and three atServers");
  const directory = await startDirectoryChild(ctx, home);
  const atSigns = [TUNNEL_REQUESTER, TUNNEL_DEVICE, TUNNEL_RELAY];
  const secrets = atSigns.map(() => crypto.randomUUID());
  await Promise.all(atSigns.map((a, i) => startServerChild(ctx, home, a, secrets[i]!, directory)));
  const dir = `${directory.host}:${directory.port}`;
  const keysFile = (a: string) => join(home, "keys", `${a}_key.atKeys`);
  ctx.progress("tunnel world: onboarding");
  await Promise.all(
    atSigns.map(async (a, i) => {
      const { client } = await AtClient.onboard(a, secrets[i]!, { directory: dir, ca: directory.ca, keysFile: keysFile(a) });
      client.close();
    }),
  );
  ctx.progress("tunnel world: relay and daemon");
  const relay = await ctx.spawn(
    [process.execPath, relayEntry, TUNNEL_RELAY, "--host", "127.0.0.1", "--port", "0", "--admin-port", "0", "--directory", dir, "--keys", keysFile(TUNNEL_RELAY), "--public-host", "127.0.0.1"],
    { env, ready: /published/ },
  );
  const daemon = await ctx.spawn([process.execPath, clientEntry, "daemon", "--keys", keysFile(TUNNEL_DEVICE), "--directory", dir, "--permit", "127.0.0.1:*", "--allow", TUNNEL_REQUESTER], {
    env,
    ready: /ready/,
  });
  return {
    relay,
    daemon,
    async startTunnel(to) {
      const t0 = performance.now();
      const child = await ctx.spawn(
        [process.execPath, clientEntry, "tunnel", "--keys", keysFile(TUNNEL_REQUESTER), "--directory", dir, TUNNEL_DEVICE, "--to", to, "--relay", TUNNEL_RELAY],
        { env, ready: /tunnel ready on 127\.0\.0\.1:(\d+) .*\((\d+) ms after start\)/, readyTimeoutMs: TUNNEL_READY_TIMEOUT_MS },
      );
      return { child, port: Number(child.ready[1]), readyMsAfterStart: Number(child.ready[2]), readyMsAfterSpawn: performance.now() - t0 };
    },
  };
}
