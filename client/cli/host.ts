/**
 * `host`: provisions the @signs of a hosting process (`bun server.ts --hosted DIR`) through its provisioning API:
 * create, list, status, reset, export, import, delete. The token is read from a file (DIR/admin.token), never
 * from the command line.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { atSignSchema } from "../../core/atsign.ts";
import { inlayHome } from "../../core/crypto/dev_ca.ts";
import { portSchema, UsageError } from "../../core/options.ts";
import { AtClientError, type AtErrorKind } from "../errors.ts";
import { COMMON_SPEC, emit, type CliCommand } from "./command.ts";

/** Deadline of one provisioning call (create makes an RSA key; export may carry a large file). */
const HOST_CALL_TIMEOUT_MS = 60_000;
/** Largest tenant file `import` reads (the API's own limit). */
const TENANT_FILE_MAX_BYTES = 64 * 1024 * 1024;

const spec = {
  api: { kind: "string", help: "the hosting process's provisioning API", default: "http://127.0.0.1:6490", arg: "URL" },
  tokenFile: { kind: "string", help: "file holding the API token (default: $INLAY_HOME/hosting/admin.token)", arg: "FILE" },
  port: { kind: "number", help: "create, import: the TLS port of the @sign (default: any free one)", schema: portSchema, arg: "PORT" },
  after: { kind: "string", help: "list: start after this @sign", schema: atSignSchema, arg: "@SIGN" },
  limit: { kind: "number", help: "list: @signs per page (1 to 1000)", default: 100, arg: "N" },
  out: { kind: "string", help: "export: write the tenant file here (mode 0600; must not exist)", arg: "FILE" },
} as const;

const SUBCOMMANDS = ["create", "list", "status", "reset", "export", "import", "delete"] as const;
type Sub = (typeof SUBCOMMANDS)[number];

/** Exit kinds of the API's HTTP statuses. */
function kindOf(status: number): AtErrorKind {
  if (status === 404) return "not_found";
  if (status === 400 || status === 409 || status === 413) return "usage";
  if (status === 401) return "auth";
  return "network";
}

interface Api {
  call(method: string, path: string, body?: string): Promise<any>;
}

function api(url: string, tokenFile: string): Api {
  if (!existsSync(tokenFile)) throw new UsageError(`no token file ${tokenFile} (the hosting process writes DIR/admin.token; pass --token-file)`);
  const token = readFileSync(tokenFile, "utf8").trim();
  return {
    async call(method, path, body) {
      let res: Response;
      try {
        res = await fetch(url.replace(/\/+$/, "") + path, {
          method,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(HOST_CALL_TIMEOUT_MS),
        });
      } catch (err) {
        throw new AtClientError("AT0021", "network", `Cannot reach the provisioning API at ${url}: ${(err as Error).message} (is \`bun server.ts --hosted DIR\` running? --api)`);
      }
      const answer = (await res.json().catch(() => ({}))) as { error?: string };
      if (!res.ok) throw new AtClientError(`HTTP${res.status}`, kindOf(res.status), `${answer.error ?? `HTTP ${res.status}`} (${method} ${path})`);
      return answer;
    },
  };
}

/** The one @sign argument of `sub`, as a path segment. */
const at = (args: string[], sub: Sub) => {
  const parsed = atSignSchema.safeParse(args[1]);
  if (args.length !== 2 || !parsed.success) throw new UsageError(`host ${sub} takes one @sign: host ${sub} @name`);
  return parsed.data;
};
const tenantPath = (args: string[], sub: Sub, rest = "") => `/v1/tenants/${encodeURIComponent(at(args, sub))}${rest}`;

/** Runs one subcommand; returns what --json prints and the text otherwise. */
async function runSub(sub: Sub, o: { port?: number; after?: string; limit: number; out?: string }, args: string[], a: Api): Promise<[unknown, string]> {
  switch (sub) {
    case "create": {
      const r = await a.call("POST", "/v1/tenants", JSON.stringify({ atSign: at(args, sub), ...(o.port === undefined ? {} : { port: o.port }) }));
      return [r, `${r.atSign} created on ${r.host}:${r.port}\nCRAM secret (shown once): ${r.cramSecret}\nonboard it: bun client.ts onboard ${r.atSign} --cram ${r.cramSecret}\n`];
    }
    case "list": {
      if (args.length !== 1) throw new UsageError("host list takes no @sign (--after @name --limit N page through)");
      const r = await a.call("GET", `/v1/tenants?limit=${o.limit}${o.after ? `&after=${encodeURIComponent(o.after)}` : ""}`);
      const lines = r.items.map((i: { atSign: string; host: string; port: number }) => `${i.atSign} ${i.host}:${i.port}\n`).join("");
      return [r, lines + (r.next ? `more: --after ${r.next}\n` : "")];
    }
    case "status": {
      const r = await a.call("GET", tenantPath(args, sub));
      return [r, `${r.atSign} on ${r.host}:${r.port}: ${r.onboarded ? "onboarded" : "not onboarded"}, ${r.connections} connection(s), ${r.storageBytes} bytes stored, stores ${r.open ? "open" : "closed"}\n`];
    }
    case "reset": {
      const r = await a.call("POST", tenantPath(args, sub, "/reset"));
      return [r, `${r.atSign} reset: its keys are wiped\nnew CRAM secret (shown once): ${r.cramSecret}\n`];
    }
    case "export": {
      const path = tenantPath(args, sub, "/export");
      if (!o.out) throw new UsageError("host export needs --out FILE (the file holds the @sign's private server keys)");
      if (existsSync(o.out)) throw new UsageError(`${o.out} exists; pick a new file for --out`);
      const r = await a.call("GET", path);
      writeFileSync(o.out, JSON.stringify(r), { mode: 0o600, flag: "wx" });
      return [{ atSign: r.atSign, file: o.out }, `${r.atSign} exported to ${o.out} (keep it secret: it holds the @sign's keys)\n`];
    }
    case "import": {
      if (args.length !== 2) throw new UsageError("host import takes one tenant file: host import FILE");
      const file = Bun.file(args[1]!);
      if (!(await file.exists())) throw new UsageError(`no file ${args[1]}`);
      if (file.size > TENANT_FILE_MAX_BYTES) throw new UsageError(`${args[1]} is larger than a tenant file may be (${TENANT_FILE_MAX_BYTES} bytes)`);
      const r = await a.call("POST", `/v1/tenants/import${o.port === undefined ? "" : `?port=${o.port}`}`, await file.text());
      return [r, `${r.atSign} imported on ${r.host}:${r.port}\n`];
    }
    case "delete": {
      const atSign = at(args, sub);
      const r = await a.call("DELETE", tenantPath(args, sub));
      return [{ atSign, ...r }, `${atSign} deleted (out of the directory, its data removed)\n`];
    }
  }
}

/** The host command. */
export const host: CliCommand<typeof spec & typeof COMMON_SPEC> = {
  name: "host",
  usage: `bun client.ts host ${SUBCOMMANDS.join("|")} [@SIGN | FILE] [--api URL] [--token-file FILE]`,
  spec: { ...COMMON_SPEC, ...spec },
  async run(o, args, io) {
    const sub = args[0] as Sub;
    if (!SUBCOMMANDS.includes(sub)) throw new UsageError(`host needs a subcommand: ${SUBCOMMANDS.join(", ")}`);
    if (!(Number.isInteger(o.limit) && o.limit >= 1 && o.limit <= 1000)) throw new UsageError("--limit must be a whole number from 1 to 1000");
    const a = api(o.api, o.tokenFile ?? join(inlayHome(), "hosting", "admin.token"));
    const [data, text] = await runSub(sub, o, args, a);
    emit(io, o.json, data, text);
    return 0;
  },
};
