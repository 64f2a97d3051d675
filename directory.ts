/**
 * `bun directory.ts`: the atDirectory (root server) — resolves @signs to `host:port` on the root protocol and
 * takes registrations on a loopback admin API.
 */
import { join } from "node:path";
import { inlayHome } from "./core/crypto/dev_ca.ts";
import { serviceTls } from "./core/net/tls.ts";
import { runEntry } from "./core/entry.ts";
import { portSchema, type OptionSpec } from "./core/options.ts";
import { ADMIN_PORT_DEFAULT, DIRECTORY_PORT_DEFAULT, startDirectory } from "./directory/index.ts";
import { ADMIN_TOKEN_FILE } from "./core/admin_token.ts";

const spec = {
  host: { kind: "string", default: "0.0.0.0", arg: "HOST", help: "address of the root protocol listener" },
  port: { kind: "number", default: DIRECTORY_PORT_DEFAULT, schema: portSchema, arg: "PORT", help: "root protocol port (TLS)" },
  adminHost: { kind: "string", default: "127.0.0.1", arg: "HOST", help: "address of the admin API (keep it on loopback)" },
  adminPort: { kind: "number", default: ADMIN_PORT_DEFAULT, schema: portSchema, arg: "PORT", help: "admin API port (HTTP)" },
  data: { kind: "string", arg: "DIR", help: "data directory (default $INLAY_HOME/directory)" },
  token: { kind: "string", arg: "TOKEN", help: `admin bearer token (default: generated once into DIR/${ADMIN_TOKEN_FILE})` },
  tlsCert: { kind: "string", arg: "FILE", help: "PEM certificate chain (default: issued by the dev CA)" },
  tlsKey: { kind: "string", arg: "FILE", help: "PEM private key" },
} satisfies OptionSpec;

const usage = "bun directory.ts [options]";
const about = "atDirectory: answers `alice` with `host:port` over TLS; register @signs through the admin API.";

await runEntry({ name: "directory", usage, about, spec }, process.argv.slice(2), process.env, async (o) => {
  const home = inlayHome();
  const dataDir = o.data ?? join(home, "directory");
  const tls = await serviceTls({ certFile: o.tlsCert, keyFile: o.tlsKey, home, hosts: [o.host] });
  const dir = await startDirectory({ host: o.host, port: o.port, adminHost: o.adminHost, adminPort: o.adminPort, dataDir, token: o.token, tls });
  console.log(`directory listening on ${o.host}:${dir.port}`);
  console.log(`admin API on ${dir.adminUrl} (token ${o.token ? "from --token" : `in ${join(dataDir, ADMIN_TOKEN_FILE)}`})`);
  return dir;
});
