/**
 * `bun server.ts @alice`: runs the atServer of one @sign; `bun server.ts --hosted DIR`: every @sign provisioned
 * in DIR from one process (server/hosting/). Flags below, each also an INLAY_* env var.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { inlayHome } from "./core/crypto/dev_ca.ts";
import { oneAtSign, programName, runEntry } from "./core/entry.ts";
import { requireHostPort } from "./core/host_port.ts";
import { ADMIN_TOKEN_FILE } from "./core/admin_token.ts";
import { hostPortSchema, portSchema, UsageError, type OptionSpec } from "./core/options.ts";
import { serviceTls, systemRootCas, trustedCasLater } from "./core/net/tls.ts";
import { startServer } from "./server/index.ts";

const spec = {
  host: { kind: "string", help: "address to listen on", default: "0.0.0.0" },
  port: { kind: "number", help: "TLS port (0 picks a free one)", default: 0, schema: portSchema },
  publicHost: { kind: "string", help: "host name published in the directory", default: "localhost", arg: "HOST" },
  directory: { kind: "string", help: "directory (root) address used to find other @signs", default: "localhost:64", arg: "HOST:PORT", schema: hostPortSchema },
  directoryAdmin: { kind: "string", help: "directory admin API", default: "http://127.0.0.1:6480", arg: "URL" },
  token: { kind: "string", help: "directory admin token (default: $INLAY_HOME/directory/admin.token when present)", env: true },
  data: { kind: "string", help: "data folder (default $INLAY_HOME/servers/<@sign>)", arg: "DIR" },
  cramSecret: { kind: "string", help: "CRAM secret (default: generated once into DIR/cram.secret, mode 0600)", arg: "S", env: true },
  tlsCert: { kind: "string", help: "PEM certificate chain (default: issued by the dev CA)", arg: "FILE" },
  tlsKey: { kind: "string", help: "PEM private key", arg: "FILE" },
  ca: { kind: "string", help: "extra CA file trusted for the directory and other atServers (default: the dev CA of $INLAY_HOME)", arg: "FILE" },
  resetOnboarding: {
    kind: "boolean",
    help: "accept an empty keystore of an onboarded @sign (its data is lost): onboard it again with a new CRAM secret (unless --cram-secret)",
    default: false,
  },
  adminHost: { kind: "string", help: "address of the admin port (keep it on loopback)", default: "127.0.0.1", arg: "HOST" },
  adminPort: { kind: "number", help: "admin HTTP port for /metrics, /healthz, /readyz (0 picks a free one; default: no admin port)", schema: portSchema, arg: "PORT" },
  hosted: { kind: "string", help: "hosting mode: serve every @sign provisioned in DIR, each on its own port (no @sign argument)", arg: "DIR" },
  apiHost: { kind: "string", help: "address of the provisioning API in hosting mode (keep it on loopback)", default: "127.0.0.1", arg: "HOST" },
  apiPort: { kind: "number", help: "provisioning API port in hosting mode (0 picks a free one)", default: 6490, schema: portSchema, arg: "PORT" },
  peerCa: { kind: "string", help: "CAs accepted for other atServers' client certificates (default: the system roots with --tls-cert, else the dev CA)", arg: "FILE" },
} satisfies OptionSpec;

const usage = "@alice [options] | --hosted DIR [options]";
const about = "Runs the atServer of one @sign (or, with --hosted, of every @sign provisioned in DIR): registers it in the directory and serves atProtocol clients over TLS.";

const listeners = (o: { host: string; port: number; hosted?: string; apiHost: string; apiPort: number }) =>
  o.hosted !== undefined
    ? [{ what: "provisioning API", host: o.apiHost, port: o.apiPort, portFlag: "--api-port", hostFlag: "--api-host" }]
    : [{ what: "atServer", host: o.host, port: o.port, portFlag: "--port", hostFlag: "--host" }];

await runEntry({ name: "server", usage, about, spec, listeners }, process.argv.slice(2), process.env, async (o, positionals) => {
  const atSign = o.hosted !== undefined ? hostedOnly(positionals, o) : oneAtSign(positionals, `${programName("server")} @alice`);
  const home = inlayHome();
  const tls = await serviceTls({ certFile: o.tlsCert, keyFile: o.tlsKey, hosts: [o.publicHost, o.host], home });
  const { host: dirHost, port: dirPort } = requireHostPort(o.directory, "--directory");
  const tokenFile = join(home, "directory", "admin.token");
  const token = o.token ?? (existsSync(tokenFile) ? readFileSync(tokenFile, "utf8").trim() : undefined);
  if (!token) console.error(`warning: no directory admin token (--token), so ${atSign ?? "the hosted @signs"} ${atSign ? "is" : "are"} not registered in the directory`);
  const shared = {
    tls: { key: tls.key, cert: tls.cert, ca: peerCas(o.peerCa, tls.ca) },
    directory: { host: dirHost, port: dirPort, ca: trustedCasLater({ caFile: o.ca, home }) },
    directoryAdmin: token ? { url: o.directoryAdmin, token } : undefined,
  };
  if (atSign === null) {
    // Loaded only here: the single-@sign server does not pay for hono and the provisioning code.
    const { startHosting } = await import("./server/hosting/index.ts");
    const h = await startHosting({ ...shared, dir: o.hosted!, host: o.host, publicHost: o.publicHost, api: { host: o.apiHost, port: o.apiPort } });
    console.log(`hosting ${h.hosting.pool.tenants.size} @signs from ${o.hosted}; provisioning API on ${h.api.url} (token in ${join(o.hosted!, ADMIN_TOKEN_FILE)})`);
    for (const f of h.failed) console.error(`warning: ${f.atSign} is not served: ${f.error}`);
    return h;
  }

  const server = await startServer({
    atSign,
    host: o.host,
    port: o.port,
    publicHost: o.publicHost,
    dataDir: o.data ?? join(home, "servers", atSign),
    cramSecret: o.cramSecret,
    ...shared,
    resetOnboarding: o.resetOnboarding,
    admin: o.adminPort === undefined ? undefined : { host: o.adminHost, port: o.adminPort },
  });
  // console.*, not process.stdout: see core/log.ts (~7 MiB RSS).
  console.log(`${atSign} listening on ${o.host}:${server.port}`);
  if (server.admin) console.log(`admin (/metrics, /healthz, /readyz) on ${server.admin.url}`);
  if (!server.onboarded()) {
    console.log(`not onboarded yet; run:\n  ${programName("client")} onboard ${atSign} --cram ${server.cramSecret} --directory ${o.directory}`);
  }
  return server;
});

/** Hosting mode takes its @signs, ports and secrets from DIR: an @sign argument or a per-@sign flag is a mistake. */
function hostedOnly(positionals: string[], o: { data?: string; cramSecret?: string; port: number; adminPort?: number; resetOnboarding: boolean }): null {
  if (positionals.length > 0) throw new UsageError(`--hosted serves the @signs provisioned in DIR; drop ${positionals[0]} (provision it with \`${programName("client")} host create ${positionals[0]}\`)`);
  const perAtSign = [o.data && "--data", o.cramSecret && "--cram-secret", o.port !== 0 && "--port", o.adminPort !== undefined && "--admin-port", o.resetOnboarding && "--reset-onboarding"].filter(Boolean);
  if (perAtSign.length > 0) throw new UsageError(`${perAtSign.join(", ")} belong(s) to one @sign's server; with --hosted each @sign's folder, port and secret come from DIR (reset one with \`${programName("client")} host reset @name\`; /metrics is on --api-port)`);
  return null;
}

/**
 * The CAs the listener verifies other servers' client certificates against. With an operator certificate the
 * peers are public servers whose chains (leaf + intermediate) only the TLS stack can verify — Bun exposes no
 * peer chain — so the system roots go to the listener; that costs ~1 ms per handshake, hence only then.
 */
function peerCas(peerCaFile: string | undefined, devCa: string | undefined): string | string[] {
  if (peerCaFile) return readFileSync(peerCaFile, "utf8");
  return devCa ?? systemRootCas();
}
