/**
 * A hosting process under test: a real directory (test/harness.ts stack without servers of its own) and
 * startHosting on a temp folder, its tenants registered in that directory, its provisioning API on 127.0.0.1:0.
 */
import { join } from "node:path";
import { serviceTls } from "../../core/net/tls.ts";
import { startHosting, type HostingOptions, type RunningHosting } from "../../server/hosting/index.ts";
import { STACK_HOST, startStack, type Stack } from "../harness.ts";
import { cramAuth } from "../server_fixture.ts";
import { connectWire, type WireClient } from "../wire_client.ts";

/** A provisioned tenant as create answers it. */
export interface Created {
  atSign: string;
  host: string;
  port: number;
  cramSecret: string;
}

export interface HostingFixture {
  stack: Stack;
  /** The hosting folder. */
  dir: string;
  hosting: RunningHosting;
  /** A provisioning API call with the token; resolves with the status and the JSON body. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Provisions `atSign` through the API. */
  create(atSign: string): Promise<Created>;
  /** A CRAM-authenticated owner client of a tenant. */
  owner(t: Created): Promise<WireClient>;
  /** Stops the hosting process and starts it again on the same folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a directory and a hosting process; `extra` tunes the hosting options (limits, notify). */
export async function startHostingFixture(extra: Partial<HostingOptions> = {}): Promise<HostingFixture> {
  const stack = await startStack({ atSigns: [] });
  const dir = join(stack.home, "hosted");
  const tls = await serviceTls({ home: stack.home });
  const opts: HostingOptions = {
    dir,
    host: STACK_HOST,
    publicHost: STACK_HOST,
    tls: { key: tls.key, cert: tls.cert },
    directory: { host: stack.directory.host, port: stack.directory.port, ca: [stack.ca] },
    directoryAdmin: { url: stack.directory.adminUrl, token: stack.directory.token },
    api: { host: STACK_HOST, port: 0 },
    ...extra,
  };
  const f: HostingFixture = {
    stack,
    dir,
    hosting: await startHosting(opts),
    async api(method, path, body) {
      const res = await fetch(f.hosting.api.url + path, {
        method,
        headers: { authorization: `Bearer ${f.hosting.api.token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    },
    async create(atSign) {
      const r = await f.api("POST", "/v1/tenants", { atSign });
      if (r.status !== 201) throw new Error(`create ${atSign}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body as Created;
    },
    async owner(t) {
      const c = await connectWire(t.port, stack.ca);
      const r = await cramAuth(c, t.atSign, t.cramSecret);
      if (r !== "data:success") throw new Error(`cram of ${t.atSign} failed: ${r}`);
      return c;
    },
    async restart() {
      await f.hosting.stop();
      f.hosting = await startHosting(opts);
    },
    async stop() {
      await f.hosting.stop();
      await stack.stop();
    },
  };
  return f;
}
