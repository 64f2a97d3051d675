/**
 * `bun relay.ts @relay`: runs the blind rendezvous relay (flags below, each also an INLAY_* env var).
 */
import { join } from "node:path";
import * as z from "zod/mini";
import { ADMIN_TOKEN_FILE, loadOrCreateAdminToken } from "./core/admin_token.ts";
import { atSignSchema } from "./core/atsign.ts";
import { inlayHome } from "./core/crypto/dev_ca.ts";
import { trustedCasLater } from "./core/net/tls.ts";
import { requireHostPort } from "./core/host_port.ts";
import { oneAtSign, programName, runEntry } from "./core/entry.ts";
import { UsageError, hostPortSchema, portSchema, type OptionSpec } from "./core/options.ts";
import { startRelay } from "./relay/index.ts";
import { DEFAULT_RELAY_LIMITS } from "./relay/limits.ts";
import { cachedResolver, directoryResolver } from "./relay/public_key_resolver.ts";
import { RELAY_ADDRESS_KEY, RELAY_FLEET_MAX, formatRelayAddresses } from "./client/tunnel/relay_address.ts";

/** Default relay port: distinct from the dev directory's 6464 and the directory admin API's 6480. */
const RELAY_PORT_DEFAULT = 6466;
/** Default port of the relay's admin HTTP (/metrics, /drain). */
const RELAY_ADMIN_PORT_DEFAULT = 6467;
/** Default of --drain-timeout: how long SIGTERM lets live sessions finish. */
const DRAIN_TIMEOUT_DEFAULT_S = 30;

const positive = z.number().check(z.int(), z.minimum(0));
const spec = {
  host: { kind: "string", help: "address to listen on (:: takes IPv6 and IPv4)", default: "::" },
  port: { kind: "number", help: "relay port (0 picks a free one)", default: RELAY_PORT_DEFAULT, schema: portSchema },
  publicHost: { kind: "string", help: "host name the relay publishes as public:relay.inlay@RELAY (with --keys)", arg: "HOST" },
  fleet: { kind: "list", help: "the other relays of this @sign, published after this one's address (tunnels pick the fastest)", arg: "HOST:PORT,…", default: [] as string[], schema: z.array(hostPortSchema).check(z.maxLength(RELAY_FLEET_MAX - 1)) },
  directory: { kind: "string", help: "directory (root) used to find @signs' servers", default: "localhost:64", arg: "HOST:PORT", schema: hostPortSchema },
  ca: { kind: "string", help: "extra CA file for the directory and servers (default: the dev CA of $INLAY_HOME)", arg: "FILE" },
  keys: { kind: "string", help: "the relay's .atKeys, to publish its address on its atServer (needs --public-host)", arg: "FILE" },
  data: { kind: "string", help: `data folder: the admin token is in DIR/${ADMIN_TOKEN_FILE} (default $INLAY_HOME/relay)`, arg: "DIR" },
  allow: { kind: "list", help: "@signs that may use the relay (default: anyone with a valid @sign)", arg: "@A,@B", default: [] as string[], schema: z.array(atSignSchema) },
  adminHost: { kind: "string", help: "admin address for /metrics and /drain (keep it on loopback)", default: "127.0.0.1" },
  adminPort: { kind: "number", help: "admin port for /metrics and /drain", default: RELAY_ADMIN_PORT_DEFAULT, schema: portSchema },
  drainTimeout: { kind: "number", help: "on SIGTERM/SIGINT, seconds live sessions may take to finish before the relay stops (0 = stop at once)", default: DRAIN_TIMEOUT_DEFAULT_S, schema: positive },
  sessionsPerAtsign: { kind: "number", help: "legs one @sign may hold at once", default: DEFAULT_RELAY_LIMITS.sessionsPerAtSign, schema: positive },
  bytesPerSession: { kind: "number", help: "bytes after which a session is closed (0 = no limit)", default: 0, schema: positive },
  idleTimeout: { kind: "number", help: "seconds without traffic before a session is closed", default: DEFAULT_RELAY_LIMITS.idleTimeoutMs / 1000, schema: positive },
} satisfies OptionSpec;

const usage = "@relay [options]";
const about =
  "Runs the blind rendezvous relay: legs that prove their @sign are paired by session id and their (end-to-end\nencrypted) bytes are copied across. Metrics and drain on the admin port; SIGTERM drains, then stops.";

const listeners = (o: { host: string; port: number; adminHost: string; adminPort: number }) => [
  { what: "relay", host: o.host, port: o.port, portFlag: "--port", hostFlag: "--host" },
  { what: "admin", host: o.adminHost, port: o.adminPort, portFlag: "--admin-port", hostFlag: "--admin-host" },
];

await runEntry({ name: "relay", usage, about, spec, listeners }, process.argv.slice(2), process.env, async (o, positionals) => {
  const relayAtSign = oneAtSign(positionals, `${programName("relay")} @relay`);
  const allow = o.allow.length ? o.allow : undefined;
  if (o.keys && !o.publicHost) throw new UsageError("--keys publishes the relay's address: give --public-host too");
  const { host: dirHost, port: dirPort } = requireHostPort(o.directory, "--directory");
  // The CA list (system roots: several MiB) is built when the first leg needs a key looked up.
  const dataDir = o.data ?? join(inlayHome(), "relay");
  const resolvePublicKey = cachedResolver(directoryResolver({ host: dirHost, port: dirPort, ca: trustedCasLater({ caFile: o.ca, home: inlayHome() }) }));
  const relay = await startRelay({
    relayAtSign,
    host: o.host,
    port: o.port,
    adminHost: o.adminHost,
    adminPort: o.adminPort,
    adminToken: loadOrCreateAdminToken(dataDir, "relay"),
    resolvePublicKey,
    allow,
    limits: {
      sessionsPerAtSign: o.sessionsPerAtsign,
      bytesPerSession: o.bytesPerSession || Number.MAX_SAFE_INTEGER,
      idleTimeoutMs: o.idleTimeout * 1000,
    },
  });
  // console.*, not process.stdout: see core/log.ts (~7 MiB RSS).
  console.log(`relay listening on ${o.host.includes(":") ? `[${o.host}]` : o.host}:${relay.port}`);
  if (relay.adminPort !== null) console.log(`admin on ${o.adminHost.includes(":") ? `[${o.adminHost}]` : o.adminHost}:${relay.adminPort} (token in ${join(dataDir, ADMIN_TOKEN_FILE)})`);
  if (o.keys && o.publicHost) {
    const own = { host: o.publicHost, port: relay.port };
    const value = formatRelayAddresses([own, ...o.fleet.map((a) => requireHostPort(a, "--fleet"))]);
    await publishRelayAddresses({ keysFile: o.keys, atSign: relayAtSign, directory: o.directory, caFile: o.ca, value });
    console.log(`published public:${RELAY_ADDRESS_KEY}${relayAtSign} = ${value}`);
  }
  // SIGTERM/SIGINT (core/entry.ts): drain, so live sessions finish, then stop; a second signal stops at once.
  return {
    async stop() {
      if (o.drainTimeout > 0 && relay.stats().pairs > 0) {
        console.log(`draining: ${relay.stats().pairs} live pairs may take up to ${o.drainTimeout} s`);
        await relay.drain(o.drainTimeout * 1000);
      }
      await relay.stop();
    },
  };
});

/** Writes `public:relay.inlay@<relay>` = `host:port[,host:port…]` (signed by the relay's key) so tunnels can say `--relay @relay`. */
async function publishRelayAddresses(p: { keysFile: string; atSign: string; directory: string; caFile?: string; value: string }): Promise<void> {
  // The SDK is loaded only by relays that publish their address, keeping it out of a plain relay's memory.
  const { AtClient } = await import("./client/at_client.ts");
  const client = await AtClient.open({ keysFile: p.keysFile, atSign: p.atSign, directory: p.directory, ...(p.caFile ? { caFile: p.caFile } : {}) });
  try {
    await client.put(`public:${RELAY_ADDRESS_KEY}`, p.value);
  } finally {
    client.close();
  }
}
