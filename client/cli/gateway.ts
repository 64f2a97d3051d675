/**
 * `gateway --listen HOST:PORT --to @API`: plain local HTTP in front of an API served by @sign. Every local
 * request is sent to @API as my @sign (so @API sees me, verified) and its response is returned as is.
 * When @API cannot be reached the gateway answers 502, when it does not answer in time 504, both with a
 * JSON `{ error, detail }`. Runs until SIGINT/SIGTERM. Listen on loopback: anyone who can reach the port
 * acts as my @sign.
 *
 * With `--relay`, a request body larger than a notification carries (or of unknown length) streams over a
 * relayed tunnel, and responses stream back as they arrive.
 */
import { requireHostPort } from "../../core/host_port.ts";
import type { Server } from "bun";
import { atSignSchema } from "../../core/atsign.ts";
import { hostPortSchema, UsageError } from "../../core/options.ts";
import { ApiCaller, AtFetchError, DEFAULT_API_BODY_BYTES, DEFAULT_AT_FETCH_TIMEOUT_MS, MAX_ENVELOPE_BODY_BYTES } from "../api/serve/index.ts";
import { AtUsageError } from "../errors.ts";
import { COMMON_SPEC, EXIT, openClient, type CliCommand } from "./command.ts";

const spec = {
  listen: { kind: "string", help: "local address to serve plain HTTP on", arg: "HOST:PORT", default: "127.0.0.1:8080", schema: hostPortSchema },
  to: { kind: "string", help: "the @sign serving the API", arg: "@API", schema: atSignSchema },
  cap: { kind: "string", help: "capability token to present on every request", arg: "TOKEN", env: false },
  timeout: { kind: "number", help: "ms to wait for each answer", default: DEFAULT_AT_FETCH_TIMEOUT_MS, arg: "MS" },
  relay: { kind: "string", help: "relay for large or streaming bodies (tunnel path): its @sign or HOST:PORT", arg: "@RELAY|HOST:PORT" },
} as const;

/** Largest request body the gateway takes when it has a relay (the body streams; this only stops runaways). */
export const GATEWAY_STREAMED_BODY_MAX_BYTES = 64 * 1024 * 1024 * 1024;

/** The gateway's answer when the @sign API gave none. */
function failureResponse(e: unknown): Response {
  if (e instanceof AtFetchError) {
    const status = e.reason === "no_answer" || e.reason === "timeout" ? 504 : e.reason === "busy" ? 503 : 502;
    return Response.json({ error: e.reason, detail: e.message }, { status });
  }
  if (e instanceof AtUsageError) return Response.json({ error: "bad_request", detail: e.message }, { status: 400 });
  return Response.json({ error: "gateway_failed", detail: (e as Error).message }, { status: 502 });
}

/** The gateway command. */
export const gateway: CliCommand<typeof spec & typeof COMMON_SPEC> = {
  name: "gateway",
  usage: "bun client.ts gateway --listen 127.0.0.1:8080 --to @API [--relay @RELAY] --as @ME",
  spec: { ...COMMON_SPEC, ...spec },
  async run(o, args, io) {
    if (args.length > 0) throw new UsageError("gateway takes no positional arguments");
    if (!o.to) throw new UsageError("gateway needs --to @API");
    if (!Number.isSafeInteger(o.timeout) || o.timeout < 1) throw new UsageError("--timeout needs a positive whole number of ms");
    const api = o.to;
    const client = await openClient(o);
    let caller: ApiCaller | undefined;
    let server: Server<undefined> | undefined;
    try {
      caller = await ApiCaller.open(client, { timeoutMs: o.timeout, ...(o.relay ? { relay: o.relay } : {}) });
      const c = caller;
      const { host, port } = requireHostPort(o.listen, "--listen", { allowPortZero: true });
      try {
        server = Bun.serve({
          hostname: host,
          port,
          reusePort: false,
          maxRequestBodySize: o.relay ? GATEWAY_STREAMED_BODY_MAX_BYTES : MAX_ENVELOPE_BODY_BYTES,
          async fetch(req) {
            const url = new URL(req.url);
            const hasBody = req.method !== "GET" && req.method !== "HEAD" && req.body !== null;
            // A body of unknown or large size streams over the tunnel (with a relay); a small one is read.
            const length = Number(req.headers.get("content-length") ?? NaN);
            const stream = o.relay && hasBody && !(length <= DEFAULT_API_BODY_BYTES);
            const body = !hasBody ? {} : stream ? { body: req.body! } : { body: await req.arrayBuffer() };
            try {
              return await c.fetch(api, url.pathname + url.search, { method: req.method, headers: req.headers, signal: req.signal, ...body }, o.cap ? { capability: o.cap } : {});
            } catch (e) {
              return failureResponse(e);
            }
          },
        });
      } catch (e) {
        throw new UsageError(`Cannot listen on ${o.listen}: ${(e as Error).message}; choose another with --listen`);
      }
      io.err(`gateway listening on http://${host}:${server.port} -> ${api} as ${client.atSign}`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
    } finally {
      await server?.stop(true);
      await caller?.close();
      client.close();
    }
    return EXIT.ok;
  },
};
