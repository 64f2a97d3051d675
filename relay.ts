/**
 * `bun relay.ts @relay`: runs the blind rendezvous relay (flags below, each also an INLAY_* env var).
 */
import * as z from "zod/mini";
import { atSignSchema } from "./core/atsign.ts";
import { inlayHome } from "./core/crypto/dev_ca.ts";
import { trustedCasLater } from "./core/net/tls.ts";
import { requireHostPort } from "./core/host_port.ts";
import { oneAtSign, programName, runEntry } from "./core/entry.ts";
import { UsageError, hostPortSchema, portSchema, type OptionSpec } from "./core/options.ts";
import { startRelay } from "./relay/index.ts";
import { DEFAULT_RELAY_LIMITS } from "./relay/limits.ts";
import { cachedResolver, directoryResolver } from "./relay/public_key_resolver.ts";
import { RELAY_ADDRESS_KEY } from "./client/tunnel/relay_address.ts";

/** Default relay port: distinct from the dev directory's 6464 and the directory admin API's 6480. */
const RELAY_PORT_DEFAULT = 6466;
/** Default port of the relay's /metrics. */
const RELAY_ADMIN_PORT_DEFAULT = 6467;

const positive = z.number().check(z.int(), z.minimum(0));
const spec = {
  host: { kind: "string", help: "address to listen on (:: takes IPv6 and IPv4)", default: "::" },
  port: { kind: "number", help: "relay port (0 picks a free one)", default: RELAY_PORT_DEFAULT, schema: portSchema },
  publicHost: { kind: "string", help: "host name the relay publishes as public:relay.inlay@RELAY (with --keys)", arg: "HOST" },
  directory: { kind: "string", help: "directory (root) used to find @signs' servers", default: "localhost:64", arg: "HOST:PORT", schema: hostPortSchema },
  ca: { kind: "string", help: "extra CA file for the directory and servers (default: the dev CA of $INLAY_HOME)", arg: "FILE" },
  keys: { kind: "string", help: "the relay's .atKeys, to publish its address on its atServer (needs --public-host)", arg: "FILE" },
  data: { kind: "string", help: "data folder (reserved)", arg: "DIR" },
  allow: { kind: "list", help: "@signs that may use the relay (default: anyone with a valid @sign)", arg: "@A,@B", default: [] as string[], schema: z.array(atSignSchema) },
  adminHost: { kind: "string", help: "admin address for /metrics (keep it on loopback)", default: "127.0.0.1" },
  adminPort: { kind: "number", help: "admin port for /metrics", default: RELAY_ADMIN_PORT_DEFAULT, schema: portSchema },
  sessionsPerAtsign: { kind: "number", help: "legs one @sign may hold at once", default: DEFAULT_RELAY_LIMITS.sessionsPerAtSign, schema: positive },
  bytesPerSession: { kind: "number", help: "bytes after which a session is closed (0 = no limit)", default: 0, schema: positive },
  idleTimeout: { kind: "number", help: "seconds without traffic before a session is closed", default: DEFAULT_RELAY_LIMITS.idleTimeoutMs / 1000, schema: positive },
} satisfies OptionSpec;

const usage = "@relay [options]";
const about =
  "Runs the blind rendezvous relay: legs that prove their @sign are paired by session id and their (end-to-end\nencrypted) bytes are copied across. Metrics on the admin port.";

const listeners = (o: { host: string; port: number; adminHost: string; adminPort: number }) => [
  { what: "relay", host: o.host, port: o.port, portFlag: "--port", hostFlag: "--host" },
  { what: "metrics", host: o.adminHost, port: o.adminPort, portFlag: "--admin-port", hostFlag: "--admin-host" },
];

await runEntry({ name: "relay", usage, about, spec, listeners }, process.argv.slice(2), process.env, async (o, positionals) => {
  const relayAtSign = oneAtSign(positionals, `${programName("relay")} @relay`);
  const allow = o.allow.length ? o.allow : undefined;
  if (o.keys && !o.publicHost) throw new UsageError("--keys publishes the relay's address: give --public-host too");
  const { host: dirHost, port: dirPort } = requireHostPort(o.directory, "--directory");
  // The CA list (system roots: several MiB) is built when the first leg needs a key looked up.
  const resolvePublicKey = cachedResolver(directoryResolver({ host: dirHost, port: dirPort, ca: trustedCasLater({ caFile: o.ca, home: inlayHome() }) }));
  const relay = await startRelay({
    relayAtSign,
    host: o.host,
    port: o.port,
    adminHost: o.adminHost,
    adminPort: o.adminPort,
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
  if (o.keys && o.publicHost) {
    const address = await publishRelayAddress({ keysFile: o.keys, atSign: relayAtSign, directory: o.directory, caFile: o.ca, host: o.publicHost, port: relay.port });
    console.log(`published public:${RELAY_ADDRESS_KEY}${relayAtSign} = ${address}`);
  }
  return relay;
});

/** Writes `public:relay.inlay@<relay>` = `host:port` (signed by the relay's key) so tunnels can say `--relay @relay`. */
async function publishRelayAddress(p: { keysFile: string; atSign: string; directory: string; caFile?: string; host: string; port: number }): Promise<string> {
  // The SDK is loaded only by relays that publish their address, keeping it out of a plain relay's memory.
  const { AtClient } = await import("./client/at_client.ts");
  const client = await AtClient.open({ keysFile: p.keysFile, atSign: p.atSign, directory: p.directory, ...(p.caFile ? { caFile: p.caFile } : {}) });
  try {
    const address = `${p.host.includes(":") ? `[${p.host}]` : p.host}:${p.port}`;
    await client.put(`public:${RELAY_ADDRESS_KEY}`, address);
    return address;
  } finally {
    client.close();
  }
}
