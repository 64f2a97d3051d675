/**
 * `fetch @API /PATH`: curl for APIs served by @sign. The response body goes to stdout as bytes; with -v the
 * status line and headers go to stderr. Exit status 0 whatever the HTTP status, unless --fail (then 1 for
 * a status of 400 or more); 4 when the API cannot be reached or does not answer.
 *
 * With `--relay`, a body from stdin (`-d -` or `-d @-`) is streamed over a tunnel as it is read (no size
 * bound), and so is a larger `-d` body. The response is read as it arrives but written to stdout at exit (see
 * the note at the loop).
 */
import { atSignSchema } from "../../core/atsign.ts";
import { UsageError } from "../../core/options.ts";
import { ApiCaller, DEFAULT_AT_FETCH_TIMEOUT_MS, MAX_ENVELOPE_BODY_BYTES } from "../api/serve/index.ts";
import { TUNNEL_RETRY_HEADER, TUNNEL_RETRY_VALUE } from "../api/serve/envelope.ts";
import { COMMON_SPEC, EXIT, openClient, readStdin, type CliCommand, type CliIo } from "./command.ts";

const spec = {
  request: { kind: "string", short: "X", help: "HTTP method (default GET, or POST with -d)", arg: "METHOD", env: false },
  data: { kind: "string", short: "d", help: "request body; - (or @-) reads it from stdin", arg: "BODY", env: false },
  relay: { kind: "string", help: "relay for large or streaming bodies (tunnel path): its @sign or HOST:PORT", arg: "@RELAY|HOST:PORT" },
  tunnel: { kind: "boolean", help: "send over a tunnel whatever the size (needs --relay)", default: false, env: false },
  header: { kind: "list", short: "H", help: "request header, repeatable", arg: "'NAME: VALUE'", env: false },
  cap: { kind: "string", help: "capability token to present", arg: "TOKEN", env: false },
  verbose: { kind: "boolean", short: "v", help: "print the status line and response headers to stderr", default: false, env: false },
  fail: { kind: "boolean", short: "f", help: "exit 1 when the status is 400 or more", default: false, env: false },
  timeout: { kind: "number", help: "ms to wait for the answer", default: DEFAULT_AT_FETCH_TIMEOUT_MS, arg: "MS" },
} as const;

/** What lifts the notification bound on bodies: a relay, over which they stream through a tunnel. */
const RELAY_LIFTS = "give --relay @RELAY to stream it over a tunnel";

/** The flag that lifts a size refusal, for stderr: 413 from the caller without a relay, 502 asking for the tunnel. */
export function sizeLimitHint(res: Response, o: { relay?: string | undefined; tunnel: boolean }): string | null {
  if (res.status === 413 && !o.relay) return `The request body is larger than a notification carries; ${RELAY_LIFTS}`;
  if (res.status === 502 && res.headers.get(TUNNEL_RETRY_HEADER) === TUNNEL_RETRY_VALUE && !o.tunnel) {
    return "The response is larger than a notification carries; ask again with --tunnel --relay @RELAY";
  }
  return null;
}

const HEADER_RE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/;

/**
 * `-H` values as name/value pairs. The option parser splits list values at commas, so a piece that does
 * not start with `Name:` continues the previous header's value.
 * @example headerPairs(["Accept: a", "b", "X-Y: 1"]) // [["Accept","a, b"],["X-Y","1"]]
 */
export function headerPairs(pieces: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const piece of pieces) {
    const m = HEADER_RE.exec(piece);
    if (m) out.push([m[1]!, m[2]!]);
    else if (out.length > 0) out[out.length - 1]![1] += `, ${piece}`;
    else throw new UsageError(`Invalid header "${piece}": expected 'NAME: VALUE'`);
  }
  return out;
}

/** stdin as a request body stream, pulled only as fast as the tunnel sends. */
function stdinStream(io: CliIo): ReadableStream<Uint8Array> {
  const it = io.stdin()[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        const { done, value } = await it.next();
        if (done) c.close();
        else c.enqueue(value);
      },
      async cancel() {
        await it.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

/** The fetch command. */
export const fetchCommand: CliCommand<typeof spec & typeof COMMON_SPEC> = {
  name: "fetch",
  usage: "bun client.ts fetch @API /PATH [-X METHOD] [-d BODY|-] [-H 'K: V'] [--cap TOKEN] [--relay @RELAY] [-v] --as @ME",
  spec: { ...COMMON_SPEC, ...spec },
  async run(o, args, io) {
    if (args.length !== 2) throw new UsageError("fetch needs @API and /PATH");
    const api = atSignSchema.safeParse(args[0]);
    if (!api.success) throw new UsageError(`Invalid @API "${args[0]}"`);
    const path = args[1]!;
    if (!path.startsWith("/")) throw new UsageError(`Invalid /PATH "${path}": it starts with /`);
    if (!Number.isSafeInteger(o.timeout) || o.timeout < 1) throw new UsageError("--timeout needs a positive whole number of ms");
    if (o.tunnel && !o.relay) throw new UsageError("--tunnel needs --relay");
    const fromStdin = o.data === "-" || o.data === "@-";
    // With a relay, stdin streams over the tunnel as it is read; without, it must fit a notification.
    const body = o.data === undefined ? undefined : fromStdin ? (o.relay ? stdinStream(io) : await readStdin(io, MAX_ENVELOPE_BODY_BYTES, RELAY_LIFTS)) : new TextEncoder().encode(o.data);
    const method = (o.request ?? (body !== undefined ? "POST" : "GET")).toUpperCase();
    if (!/^[A-Z]{1,16}$/.test(method)) throw new UsageError(`Invalid method "${o.request}"`);
    if (body !== undefined && (method === "GET" || method === "HEAD")) throw new UsageError(`A ${method} request has no body (use -X POST)`);
    const headers = headerPairs(o.header ?? []);

    const client = await openClient(o);
    try {
      const caller = await ApiCaller.open(client, { timeoutMs: o.timeout, ...(o.relay ? { relay: o.relay } : {}) });
      try {
        const res = await caller.fetch(api.data as string, path, { method, headers, ...(body !== undefined ? { body } : {}) }, { ...(o.cap ? { capability: o.cap } : {}), ...(o.tunnel ? { tunnel: true } : {}) });
        if (o.verbose) {
          io.err(`< ${res.status} ${res.statusText}`.trimEnd());
          res.headers.forEach((v, k) => io.err(`< ${k}: ${v}`));
        }
        const hint = sizeLimitHint(res, o);
        if (hint) io.err(hint);
        // Streamed: each chunk is written before the next is read, so a large response never sits in memory.
        if (res.body) {
          for await (const chunk of res.body) {
            io.out(chunk);
            await io.flush?.();
          }
        }
        return o.fail && res.status >= 400 ? EXIT.notFound : EXIT.ok;
      } finally {
        await caller.close();
      }
    } finally {
      client.close();
    }
  },
};
