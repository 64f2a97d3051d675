/**
 * The calling side of an API served by @sign: `ApiCaller` keeps one monitor for responses and sends each
 * request as a notification encrypted for the API's @sign; `atFetch` is the fetch-shaped entry point.
 * A request whose body is a stream or larger than the notification bound (or any request, with
 * `tunnel: true`) goes over a relayed tunnel stream instead (tunnel_call.ts); that needs `relay`.
 *
 * A response is accepted only from the @sign the request went to (the notification's `from`, set by my
 * own atServer from the pol handshake) and only for a request id still pending. When no answer comes in
 * time, the delivery status of the request says why: my atServer could not reach the API's atServer
 * (`queued`/`errored`), or it did and nothing answered (`delivered`: the API is not running).
 */
import { randomUUID } from "node:crypto";
import { normalizeAtSign } from "../../../core/atsign.ts";
import { AtClient, type OpenOptions } from "../../at_client.ts";
import { AtClientError, AtUsageError } from "../../errors.ts";
import type { AtMonitor } from "../../monitor/at_monitor.ts";
import type { AtNotification } from "../../monitor/notification.ts";
import {
  DEFAULT_API_BODY_BYTES,
  decodeResponseEnvelope,
  encodeRequestEnvelope,
  envelopeHeaders,
  isNullBodyStatus,
  MAX_ENVELOPE_BODY_BYTES,
  MAX_ENVELOPE_PATH_CHARS,
  TUNNEL_RETRY_HEADER,
  TUNNEL_RETRY_VALUE,
  type ApiResponseEnvelope,
} from "./envelope.ts";
import { REQUEST_KEY_SUFFIX, RESPONSE_KEY_SUFFIX } from "./serve_api.ts";
import { TunnelCaller, TunnelCallError } from "./tunnel_call.ts";

/** Default time atFetch waits for an answer. */
export const DEFAULT_AT_FETCH_TIMEOUT_MS = 30_000;
/** Most requests one caller has waiting for an answer. */
export const MAX_PENDING_CALLS = 1_024;
/** Request header whose value is moved into the envelope's capability field (never sent as a header). */
export const CAPABILITY_HEADER = "x-inlay-capability";
/** How long the delivery status is asked for after a timeout. */
const STATUS_QUERY_TIMEOUT_MS = 2_000;

/** Why atFetch gave no response. */
export type AtFetchFailure = "unreachable" | "no_answer" | "timeout" | "closed" | "busy";

/** atFetch could not get a response; `reason` says which step failed. */
export class AtFetchError extends AtClientError {
  override name = "AtFetchError";
  constructor(
    readonly reason: AtFetchFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super("AT0021", "network", message, options);
  }
}

/** Per-call options. */
export interface CallOptions {
  timeoutMs?: number;
  /** Capability token text (else the `x-inlay-capability` header, if any). */
  capability?: string;
  /** Send this request over a tunnel stream whatever its size (needs the caller's `relay`). */
  tunnel?: boolean;
}

interface Pending {
  api: string;
  resolve(r: ApiResponseEnvelope): void;
  reject(e: Error): void;
}

/** Options of `ApiCaller.open`. */
export interface ApiCallerOptions {
  /** Largest request body sent and response body accepted (at most MAX_ENVELOPE_BODY_BYTES). */
  maxBodyBytes?: number;
  timeoutMs?: number;
  /**
   * Relay for the tunnel path (`@relay`, whose published address is looked up, or `host:port`). Without it,
   * bodies above maxBodyBytes get a local 413 and stream bodies are refused.
   */
  relay?: string;
}

/** One @sign calling APIs served by @sign; reuse it for many calls, close it when done. */
export class ApiCaller {
  private readonly pending = new Map<string, Pending>();
  private failed: Error | null = null;
  private readonly loop: Promise<void>;
  private readonly tunnels: TunnelCaller | null;

  private constructor(
    readonly client: AtClient,
    private readonly monitor: AtMonitor,
    private readonly opts: Required<Omit<ApiCallerOptions, "relay">>,
    relay: string | undefined,
  ) {
    this.loop = this.listen();
    this.tunnels = relay ? new TunnelCaller(client, relay) : null;
  }

  /**
   * Starts the response monitor of `client` and resolves once it listens.
   * @example const caller = await ApiCaller.open(bob); const res = await caller.fetch("@api", "/hello");
   */
  static async open(client: AtClient, opts: ApiCallerOptions = {}): Promise<ApiCaller> {
    const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_API_BODY_BYTES;
    if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 0 || maxBodyBytes > MAX_ENVELOPE_BODY_BYTES) throw new AtUsageError(`maxBodyBytes must be 0..${MAX_ENVELOPE_BODY_BYTES}`);
    const monitor = client.monitor({ regex: "res\\.inlayapi" });
    await monitor.ready;
    return new ApiCaller(client, monitor, { maxBodyBytes, timeoutMs: opts.timeoutMs ?? DEFAULT_AT_FETCH_TIMEOUT_MS }, opts.relay);
  }

  /**
   * Sends one request to the API served by `api` and returns its response.
   * @example await caller.fetch("@api", "/items?limit=5", { method: "POST", body: "{}" }, { capability })
   */
  async fetch(apiText: string, path: string, init: RequestInit = {}, call: CallOptions = {}): Promise<Response> {
    if (this.failed) throw new AtFetchError("closed", `Cannot call ${apiText}: ${this.failed.message}`);
    const api = atSign(apiText);
    if (!path.startsWith("/") || path.length > MAX_ENVELOPE_PATH_CHARS || /[\s#]/.test(path)) {
      throw new AtUsageError(`Invalid path "${path.slice(0, 80)}": it starts with / and holds no whitespace or # (at most ${MAX_ENVELOPE_PATH_CHARS} characters)`);
    }
    if (this.pending.size >= MAX_PENDING_CALLS) throw new AtFetchError("busy", `Cannot call ${api}: ${MAX_PENDING_CALLS} calls are already waiting`);
    const timeoutMs = call.timeoutMs ?? this.opts.timeoutMs;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new AtUsageError(`Invalid timeout ${timeoutMs}: expected a positive whole number of ms`);
    const request = new Request(`http://api.at.invalid${path}`, init);
    if (call.tunnel || init.body instanceof ReadableStream) {
      if (!this.tunnels) throw new AtUsageError(`Cannot call ${api} over a tunnel${call.tunnel ? "" : " (the body is a stream)"}: give the caller a relay`);
      return this.viaTunnel(api, path, request, call, timeoutMs);
    }
    // Not a stream: the body is in memory already.
    const body = request.body ? new Uint8Array(await request.arrayBuffer()) : new Uint8Array(0);
    if (body.byteLength > this.opts.maxBodyBytes) {
      if (!this.tunnels) return tooLarge(this.opts.maxBodyBytes);
      return this.viaTunnel(api, path, new Request(request, { body }), call, timeoutMs);
    }
    const headers = envelopeHeaders(request.headers).filter(([k]) => k !== CAPABILITY_HEADER);
    const capability = call.capability ?? request.headers.get(CAPABILITY_HEADER) ?? undefined;
    const id = randomUUID();
    const deadline = Date.now() + timeoutMs;
    const envelope = encodeRequestEnvelope({ id, method: request.method.toUpperCase(), path, headers, body, ...(capability ? { capability } : {}), deadline });

    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const answered = new Promise<ApiResponseEnvelope>((resolve, reject) => this.pending.set(id, { api, resolve, reject }));
    answered.catch(() => {});
    const expired = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
    const aborted = new Promise<never>((_, reject) => {
      if (!init.signal) return;
      onAbort = () => reject(init.signal!.reason ?? new DOMException("The operation was aborted.", "AbortError"));
      if (init.signal.aborted) onAbort();
      else init.signal.addEventListener("abort", onAbort, { once: true });
    });
    aborted.catch(() => {});
    try {
      try {
        await Promise.race([this.client.notify(api, `${id}${REQUEST_KEY_SUFFIX}`, envelope, { id, ttln: timeoutMs }), aborted]);
      } catch (e) {
        if (e instanceof AtClientError && (e.kind === "not_found" || e.kind === "network")) {
          throw new AtFetchError("unreachable", `Cannot reach ${api}: ${e.message}`, { cause: e });
        }
        throw e;
      }
      const r = await Promise.race([answered, expired, aborted]);
      if (r === "timeout") throw await this.explainTimeout(api, id, timeoutMs);
      // Too large for a notification: a safe request is asked again over the tunnel path.
      const safe = request.method === "GET" || request.method === "HEAD";
      if (r.status === 502 && safe && this.tunnels && r.headers.some(([k, v]) => k === TUNNEL_RETRY_HEADER && v === TUNNEL_RETRY_VALUE)) {
        return await this.viaTunnel(api, path, request, call, Math.max(1, deadline - Date.now()));
      }
      return toResponse(r);
    } finally {
      clearTimeout(timer);
      if (onAbort) init.signal?.removeEventListener("abort", onAbort);
      this.pending.delete(id);
    }
  }

  /** Stops the monitor and the tunnels; waiting calls fail with reason `closed`. */
  async close(): Promise<void> {
    this.failed ??= new Error("the caller was closed");
    this.monitor.close();
    await this.tunnels?.close();
    await this.loop;
  }

  private async viaTunnel(api: string, path: string, request: Request, call: CallOptions, timeoutMs: number): Promise<Response> {
    try {
      const res = await this.tunnels!.fetch(api, path, request, { timeoutMs, signal: request.signal, ...(call.capability ? { capability: call.capability } : {}) });
      tunnelResponses.add(res);
      return res;
    } catch (e) {
      if (e instanceof TunnelCallError) throw new AtFetchError(e.reason, e.message, { cause: e });
      throw e;
    }
  }

  private async listen(): Promise<void> {
    const me = this.client.atSign;
    try {
      for await (const n of this.monitor) this.onResponse(me, n);
    } catch (e) {
      this.failed = e as Error;
    }
    this.failed ??= new Error("the response monitor ended");
    for (const p of this.pending.values()) p.reject(new AtFetchError("closed", `No answer from ${p.api}: ${this.failed.message}`));
  }

  private onResponse(me: string, n: AtNotification): void {
    const prefix = `${me}:`;
    if (!n.key.startsWith(prefix) || n.value === null) return;
    const p = (() => {
      const rest = n.key.slice(prefix.length);
      const at = rest.indexOf(`${RESPONSE_KEY_SUFFIX}@`);
      if (at === -1) return undefined;
      const id = rest.slice(0, at);
      const pending = this.pending.get(id);
      // Only the @sign the request went to may answer it: `from` is what my atServer verified.
      return pending && pending.api === n.from && rest.slice(at + RESPONSE_KEY_SUFFIX.length) === n.from ? { id, pending } : undefined;
    })();
    if (!p) return;
    const r = decodeResponseEnvelope(n.value);
    if (typeof r === "string" || r.id !== p.id) {
      p.pending.resolve({ id: p.id, status: 502, headers: [["content-type", "application/json"]], body: new TextEncoder().encode(JSON.stringify({ error: "bad_response", detail: typeof r === "string" ? r : "response id mismatch" })) });
      return;
    }
    if (r.body.byteLength > this.opts.maxBodyBytes) {
      const headers: [string, string][] = [["content-type", "application/json"], [TUNNEL_RETRY_HEADER, TUNNEL_RETRY_VALUE]];
      p.pending.resolve({ id: p.id, status: 502, headers, body: new TextEncoder().encode(JSON.stringify({ error: "response_too_large", detail: `larger than ${this.opts.maxBodyBytes} bytes` })) });
      return;
    }
    p.pending.resolve(r);
  }

  private async explainTimeout(api: string, id: string, timeoutMs: number): Promise<AtFetchError> {
    if (this.failed) return new AtFetchError("closed", `No answer from ${api}: ${this.failed.message}`);
    const status = await Promise.race([this.client.notifyStatus(id).catch(() => null), Bun.sleep(STATUS_QUERY_TIMEOUT_MS).then(() => null)]);
    if (status === "queued" || status === "errored" || status === "expired") {
      return new AtFetchError("unreachable", `Cannot reach ${api}: my atServer could not deliver the request to ${api}'s atServer within ${timeoutMs} ms (delivery ${status})`);
    }
    if (status === "delivered") return new AtFetchError("no_answer", `${api} did not answer within ${timeoutMs} ms: its atServer took the request, but no API served by ${api} answered (is serveApi running?)`);
    return new AtFetchError("timeout", `${api} did not answer within ${timeoutMs} ms`);
  }
}

/** Options of atFetch: a caller to reuse, a client to call as, or the @sign whose keys to load. */
export interface AtFetchOptions extends CallOptions, Partial<OpenOptions> {
  caller?: ApiCaller;
  client?: AtClient;
  as?: string;
  maxBodyBytes?: number;
  /** Relay for the tunnel path (large or streaming bodies): `@relay` or `host:port`. */
  relay?: string;
}

/**
 * fetch for APIs served by @sign. With `caller` the call reuses its monitor; with `client` or `as` a
 * caller is opened for this one call and closed after (two more PKAM logins: use a caller for many calls).
 *
 * @example
 * ```ts
 * const res = await atFetch("@api", "/hello", {}, { as: "@bob", directory: "127.0.0.1:6464" });
 * console.log(res.status, await res.json());
 * ```
 */
export async function atFetch(api: string, path: string, init: RequestInit = {}, opts: AtFetchOptions = {}): Promise<Response> {
  const call: CallOptions = {
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.capability !== undefined ? { capability: opts.capability } : {}),
    ...(opts.tunnel !== undefined ? { tunnel: opts.tunnel } : {}),
  };
  if (opts.caller) return opts.caller.fetch(api, path, init, call);
  if (!opts.client && !opts.as) throw new AtUsageError("atFetch needs caller, client or as");
  const client = opts.client ?? (await AtClient.open({ ...(opts as OpenOptions), atSign: opts.as! }));
  let caller: ApiCaller | undefined;
  const closeAll = async () => {
    await caller?.close();
    if (!opts.client) client.close();
  };
  try {
    caller = await ApiCaller.open(client, { ...(opts.maxBodyBytes !== undefined ? { maxBodyBytes: opts.maxBodyBytes } : {}), ...(opts.relay ? { relay: opts.relay } : {}) });
    const res = await caller.fetch(api, path, init, call);
    // A tunnel response streams from the tunnel: it stays open until the body is read to its end or cancelled.
    if (res.body && tunnelResponses.has(res)) return closeAfterBody(res, closeAll);
    await closeAll();
    return res;
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/** Responses whose body streams from a tunnel. */
const tunnelResponses = new WeakSet<Response>();

/** The same response whose body runs `done` once read to its end, failed or cancelled. */
function closeAfterBody(res: Response, done: () => Promise<void>): Response {
  const reader = res.body!.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        try {
          const r = await reader.read();
          if (r.done) {
            c.close();
            await done();
          } else c.enqueue(r.value);
        } catch (e) {
          c.error(e);
          await done();
        }
      },
      async cancel(reason) {
        await reader.cancel(reason).catch(() => {});
        await done();
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

function atSign(text: string): string {
  try {
    return normalizeAtSign(text);
  } catch (e) {
    throw new AtUsageError(`Invalid API @sign "${text}": ${(e as Error).message}`);
  }
}

function toResponse(r: ApiResponseEnvelope): Response {
  return new Response(isNullBodyStatus(r.status) ? null : r.body, { status: r.status, headers: r.headers });
}

/** The local 413 for a request body the envelope cannot carry. */
function tooLarge(limit: number): Response {
  return Response.json(
    { error: "request_too_large", detail: `request bodies to an @sign API are at most ${limit} bytes (they travel inside one notification; streaming over a tunnel is not available yet)` },
    { status: 413 },
  );
}
