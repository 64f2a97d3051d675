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
import { POSTGRES_URL_ENV, readPostgresUrl } from "./directory/postgres_url.ts";

const spec = {
  host: { kind: "string", default: "0.0.0.0", arg: "HOST", help: "address of the root protocol listener" },
  port: { kind: "number", default: DIRECTORY_PORT_DEFAULT, schema: portSchema, arg: "PORT", help: "root protocol port (TLS)" },
  publicHost: { kind: "string", arg: "HOST", help: "host name clients dial (e.g. the container's name); the dev certificate covers it" },
  adminHost: { kind: "string", default: "127.0.0.1", arg: "HOST", help: "address of the admin API; bind it beyond loopback (e.g. 0.0.0.0) only where servers on other hosts register, it is token-protected" },
  adminPort: { kind: "number", default: ADMIN_PORT_DEFAULT, schema: portSchema, arg: "PORT", help: "admin API port (HTTP)" },
  data: { kind: "string", arg: "DIR", help: "data directory (default $INLAY_HOME/directory)" },
  token: { kind: "string", arg: "TOKEN", help: `admin bearer token (default: generated once into DIR/${ADMIN_TOKEN_FILE})` },
  tlsCert: { kind: "string", arg: "FILE", help: "PEM certificate chain (default: issued by the dev CA)" },
  tlsKey: { kind: "string", arg: "FILE", help: "PEM private key" },
  postgresUrlFile: {
    kind: "string",
    arg: "FILE",
    help: `keep the registry in PostgreSQL, shared by several directories: a 0600 file holding its postgres:// URL (or set ${POSTGRES_URL_ENV}); default: DIR/registry.sqlite`,
  },
} satisfies OptionSpec;

const usage = "[options]";
const about = "atDirectory: answers `alice` with `host:port` over TLS; register @signs through the admin API.";

const listeners = (o: { host: string; port: number; adminHost: string; adminPort: number }) => [
  { what: "root protocol", host: o.host, port: o.port, portFlag: "--port", hostFlag: "--host" },
  { what: "admin API", host: o.adminHost, port: o.adminPort, portFlag: "--admin-port", hostFlag: "--admin-host" },
];

await runEntry({ name: "directory", usage, about, spec, listeners }, process.argv.slice(2), process.env, async (o) => {
  const home = inlayHome();
  const dataDir = o.data ?? join(home, "directory");
  const tls = await serviceTls({ certFile: o.tlsCert, keyFile: o.tlsKey, home, hosts: [o.host, ...(o.publicHost ? [o.publicHost] : [])] });
  const url = o.postgresUrlFile ? readPostgresUrl(o.postgresUrlFile) : process.env[POSTGRES_URL_ENV];
  const postgres = url ? { url } : undefined;
  const dir = await startDirectory({ host: o.host, port: o.port, adminHost: o.adminHost, adminPort: o.adminPort, dataDir, token: o.token, tls, postgres });
  console.log(`directory listening on ${o.host}:${dir.port}`);
  console.log(`admin API on ${dir.adminUrl} (token ${o.token ? "from --token" : `in ${join(dataDir, ADMIN_TOKEN_FILE)}`})`);
  return dir;
});
