/**
 * serveApi: a hono app reachable only by @sign, with no open port. The API's @sign keeps an outbound,
 * PKAM-authenticated connection (plus a monitor) to its own atServer; requests arrive as notifications
 * encrypted for it, and each response goes back to the caller as a notification encrypted for the caller.
 *
 * The caller's @sign is the notification's `from`, which the API's atServer sets from the pol handshake of
 * the delivering server; the envelope cannot claim one. Before the app runs: block list, then allow list or
 * a macaroon capability (checkCapability, no call home), then in-flight and body bounds. Refusals are JSON
 * `{ error, detail }` with 401/403/413/429/503; a handler slower than the timeout gets a 504.
 *
 * Notification bodies are bounded (DEFAULT_API_BODY_BYTES, at most MAX_ENVELOPE_BODY_BYTES); a larger request
 * is answered 413, a larger response 502. Large or streaming bodies come over a relayed tunnel instead
 * (tunnel_serve.ts): serveApi runs a tunnel daemon for its @sign, the caller's @sign is the one verified by the
 * tunnel's key agreement, and the same access checks run before the app.
 */
import { readBounded } from "../../../core/bytes.ts";
import { Hono } from "hono";
import { randomUUID } from "node:crypto";
import { normalizeAtSign } from "../../../core/atsign.ts";
import { logger } from "../../../core/log.ts";
import { MacaroonError } from "../../../core/macaroon/index.ts";
import { AtClient, type OpenOptions } from "../../at_client.ts";
import type { AtMonitor } from "../../monitor/at_monitor.ts";
import type { AtNotification } from "../../monitor/notification.ts";
import { notificationControlChannel } from "../../tunnel/control_channel.ts";
import { startDaemon, type Daemon } from "../../tunnel/daemon.ts";
import { parsePermit } from "../../tunnel/permits.ts";
import { CallCounters } from "../capability/call_counters.ts";
import { checkCapability } from "../capability/check_capability.ts";
import { decodeCapability } from "../capability/mint_capability.ts";
import {
  DEFAULT_API_BODY_BYTES,
  decodeRequestEnvelope,
  encodeResponseEnvelope,
  envelopeHeaders,
  isNullBodyStatus,
  MAX_ENVELOPE_BODY_BYTES,
  REQUEST_ID_RE,
  TUNNEL_RETRY_HEADER,
  TUNNEL_RETRY_VALUE,
  type ApiRequestEnvelope,
  type ApiResponseEnvelope,
} from "./envelope.ts";
import { API_DEVICE_NAME, API_TUNNEL_TARGET, serveTunnelStream } from "./tunnel_serve.ts";

const log = logger("api");

/** Key name suffix of request notifications (`@api:<id>.req.inlayapi@bob`). */
export const REQUEST_KEY_SUFFIX = ".req.inlayapi";
/** Key name suffix of response notifications (`@bob:<id>.res.inlayapi@api`). */
export const RESPONSE_KEY_SUFFIX = ".res.inlayapi";
/** Default bound on requests the app is running at once; more get 503 at once. */
export const DEFAULT_MAX_IN_FLIGHT = 64;
/** Default time a handler may take before the caller gets 504. */
export const DEFAULT_HANDLER_TIMEOUT_MS = 30_000;
/** Request ids remembered to drop a redelivered request; the oldest is forgotten first. */
export const MAX_SEEN_REQUESTS = 10_000;
/** How long a response notification waits for delivery to the caller. */
export const RESPONSE_TTLN_MS = 60_000;
/** Requests whose caller deadline passed more than this long ago are dropped (clock skew allowance). */
export const DEADLINE_SKEW_MS = 30_000;
/** Most entries of allow and block lists together. */
export const MAX_ACCESS_LIST_ENTRIES = 10_000;

/** Variables serveApi sets for handlers: `c.get("atSign")` is the verified caller. */
export type AtApiEnv = { Variables: { atSign: string } };

/** Options of serveApi. */
export interface ServeApiOptions extends Partial<OpenOptions> {
  /** The API's @sign (its .atKeys are loaded unless `client` is given). */
  as?: string;
  /** A client of the API's @sign to use instead of opening one (serveApi does not close it). */
  client?: AtClient;
  /** @signs let in without a capability; `"*"` lets in every @sign (the block list still applies). */
  allow?: string[];
  /** @signs always refused, before anything else. */
  block?: string[];
  /**
   * Also put the block list on the atServer (`config:block:add`), so their servers cannot even deliver: the
   * traffic never reaches this process. It stays there after close (it is the @sign's own block list).
   */
  blockOnServer?: boolean;
  /** Root key of capability tokens; with it, callers not on the allow list may present one. */
  capabilityRootKey?: Uint8Array;
  /** Call counters for capability budgets (shared with other verifiers of the same root key). */
  counters?: CallCounters;
  maxInFlight?: number;
  handlerTimeoutMs?: number;
  /** Largest request and response body over notifications (at most MAX_ENVELOPE_BODY_BYTES). */
  maxBodyBytes?: number;
  /**
   * Take requests over relayed tunnel streams too (large or streaming bodies; default true). The caller names
   * the relay; this side dials it like a tunnel daemon.
   */
  tunnel?: boolean;
}

/** Counters of a served API. */
export interface ServeApiStats {
  received: number;
  answered: number;
  refused: number;
  duplicates: number;
  inFlight: number;
  /** Bytes the tunnel streams hold in user space now (bounded by backpressure). */
  tunnelQueuedBytes: number;
  /** Tunnel streams open now. */
  tunnelStreams: number;
}

/** A running API. */
export interface ServedApi {
  atSign: string;
  stats(): ServeApiStats;
  /** Stops taking requests, waits for those in flight (up to the handler timeout), closes what it opened. */
  close(): Promise<void>;
}

/** A JSON refusal in the response envelope. */
function refusal(id: string, status: number, error: string, detail: string, extra: [string, string][] = []): ApiResponseEnvelope {
  return { id, status, headers: [["content-type", "application/json"], ...extra], body: new TextEncoder().encode(JSON.stringify({ error, detail })) };
}

function atSignList(list: string[] | undefined, what: string): Set<string> {
  const out = new Set<string>();
  for (const a of list ?? []) out.add(a === "*" ? "*" : normalizeAtSign(a));
  if (out.size > MAX_ACCESS_LIST_ENTRIES) throw new RangeError(`Cannot serve API: ${what} list has more than ${MAX_ACCESS_LIST_ENTRIES} entries`);
  return out;
}

/**
 * Serves `app` as `opts.as` (or `opts.client`). Resolves once the monitor is listening.
 *
 * @example
 * ```ts
 * const app = new Hono<AtApiEnv>().get("/hello", (c) => c.json({ hello: c.get("atSign") }));
 * const api = await serveApi(app, { as: "@api", directory: "127.0.0.1:6464", allow: ["@bob"] });
 * ```
 */
export async function serveApi(app: Hono<any, any, any>, opts: ServeApiOptions): Promise<ServedApi> {
  const allow = atSignList(opts.allow, "allow");
  const block = atSignList(opts.block, "block");
  if (allow.size === 0 && !opts.capabilityRootKey) throw new RangeError('Cannot serve API: nobody could call it; give allow (["*"] for every @sign) or capabilityRootKey');
  const maxBody = opts.maxBodyBytes ?? DEFAULT_API_BODY_BYTES;
  if (!Number.isSafeInteger(maxBody) || maxBody < 0 || maxBody > MAX_ENVELOPE_BODY_BYTES) throw new RangeError(`Cannot serve API: maxBodyBytes must be 0..${MAX_ENVELOPE_BODY_BYTES}`);
  const maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const timeoutMs = opts.handlerTimeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS;
  if (!Number.isSafeInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`Cannot serve API: maxInFlight ${maxInFlight} must be a positive integer`);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new RangeError(`Cannot serve API: handlerTimeoutMs ${timeoutMs} must be a positive integer`);
  const counters = opts.counters ?? new CallCounters();

  const owned = !opts.client;
  const client =
    opts.client ??
    (await AtClient.open({ ...(opts as OpenOptions), ...(opts.as ? { atSign: opts.as } : {}) }));
  const me = client.atSign;
  if (opts.as && normalizeAtSign(opts.as) !== me) throw new RangeError(`Cannot serve API as ${opts.as}: the client is ${me}`);

  // The verified caller reaches handlers through the env binding, set as a variable before the app runs.
  const outer = new Hono<AtApiEnv & { Bindings: { atSign: string } }>();
  outer.use(async (c, next) => {
    c.set("atSign", c.env.atSign);
    await next();
  });
  outer.route("/", app);

  const seen = new Map<string, true>();
  const inFlight = new Set<Promise<void>>();
  let tunnelInFlight = 0;
  const stats: ServeApiStats = { received: 0, answered: 0, refused: 0, duplicates: 0, inFlight: 0, tunnelQueuedBytes: 0, tunnelStreams: 0 };
  const keyRe = new RegExp(`^${escapeRe(me)}:([0-9a-f-]{36})${escapeRe(REQUEST_KEY_SUFFIX)}(@[^:@\\s]+)$`);

  let monitor: AtMonitor;
  try {
    const blocked = [...block].filter((a) => a !== "*" && a !== me);
    if (opts.blockOnServer && blocked.length > 0) await client.command(`config:block:add:${blocked.join(" ")}`);
    monitor = client.monitor({ regex: "req\\.inlayapi" });
    await monitor.ready;
  } catch (e) {
    if (owned) client.close();
    throw e;
  }

  const reply = async (to: string, r: ApiResponseEnvelope) => {
    try {
      await client.notify(to, `${r.id}${RESPONSE_KEY_SUFFIX}`, encodeResponseEnvelope(r), { ttln: RESPONSE_TTLN_MS, id: randomUUID() });
    } catch (e) {
      log.warn("cannot answer", { to, id: r.id, error: (e as Error).message });
    }
  };
  const refuse = (to: string, r: ApiResponseEnvelope) => {
    stats.refused++;
    return reply(to, r);
  };

  /** Access check; a refusal envelope, or null to run the app. */
  const gate = (from: string, req: Pick<ApiRequestEnvelope, "id" | "method" | "path" | "capability">): ApiResponseEnvelope | null => {
    if (block.has(from)) return refusal(req.id, 403, "blocked", `${from} may not call ${me}`);
    if (allow.has("*") || allow.has(from)) return null;
    if (!opts.capabilityRootKey) return refusal(req.id, 403, "not_allowed", `${from} is not allowed to call ${me}`);
    if (req.capability === undefined) return refusal(req.id, 401, "capability_required", `${from} is not on the allow list of ${me}: present a capability token`);
    let token;
    try {
      token = decodeCapability(req.capability);
    } catch (e) {
      if (!(e instanceof MacaroonError)) throw e;
      return refusal(req.id, 401, "malformed_capability", e.message);
    }
    const path = req.path.replace(/\?.*$/, "");
    const r = checkCapability(token, { atSign: from, path, method: req.method }, Date.now(), counters, opts.capabilityRootKey);
    if (r.ok) return null;
    if (r.reason === "rate_limited") return refusal(req.id, 429, r.reason, r.detail, [["retry-after", "60"]]);
    if (r.reason === "counter_store_full") return refusal(req.id, 503, r.reason, r.detail);
    return refusal(req.id, 403, r.reason, r.detail);
  };

  const run = async (from: string, req: ApiRequestEnvelope): Promise<ApiResponseEnvelope> => {
    const abort = new AbortController();
    const request = new Request(`http://api.at.invalid${req.path}`, {
      method: req.method,
      headers: req.headers,
      ...(req.body.byteLength && req.method !== "GET" && req.method !== "HEAD" ? { body: req.body } : {}),
      signal: abort.signal,
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
    try {
      const res = await Promise.race([Promise.resolve(outer.fetch(request, { atSign: from })), timedOut]);
      if (res === "timeout") {
        abort.abort();
        return refusal(req.id, 504, "handler_timeout", `${me} did not answer within ${timeoutMs} ms`);
      }
      const body = await Promise.race([readBounded(res.body, maxBody), timedOut]);
      if (body === "timeout") return refusal(req.id, 504, "handler_timeout", `${me} did not finish its response within ${timeoutMs} ms`);
      if (body === null) {
        const retry: [string, string][] = opts.tunnel !== false ? [[TUNNEL_RETRY_HEADER, TUNNEL_RETRY_VALUE]] : [];
        return refusal(req.id, 502, "response_too_large", `the response of ${me} is larger than ${maxBody} bytes (bodies travel inside notifications; ask over a tunnel)`, retry);
      }
      return { id: req.id, status: res.status, headers: envelopeHeaders(res.headers), body: isNullBodyStatus(res.status) ? new Uint8Array(0) : body };
    } catch (e) {
      log.warn("handler failed", { from, id: req.id, error: (e as Error).message });
      return refusal(req.id, 500, "handler_failed", "the API failed to answer");
    } finally {
      clearTimeout(timer);
    }
  };

  const onRequest = (n: AtNotification): void => {
    const m = keyRe.exec(n.key);
    if (!m || n.operation !== "update" || n.messageType !== "key") return;
    const id = m[1]!;
    const from = normalizeAtSign(n.from);
    // The key names the sender too; the server builds it from `from`, so a mismatch means a malformed row.
    if (m[2] !== from || !REQUEST_ID_RE.test(id)) return;
    stats.received++;
    const seenKey = `${from} ${id}`;
    if (seen.has(seenKey)) {
      stats.duplicates++;
      return;
    }
    seen.set(seenKey, true);
    if (seen.size > MAX_SEEN_REQUESTS) seen.delete(seen.keys().next().value!);

    if (n.value === null) return void refuse(from, refusal(id, 400, "undecryptable", n.decryptError ?? "the request carried no value"));
    const req = decodeRequestEnvelope(n.value);
    if (typeof req === "string") return void refuse(from, refusal(id, 400, "bad_envelope", req));
    if (req.id !== id) return void refuse(from, refusal(id, 400, "bad_envelope", "the envelope id is not the notification's"));
    if (req.deadline + DEADLINE_SKEW_MS < Date.now()) return; // the caller gave up long ago
    if (req.body.byteLength > maxBody) return void refuse(from, refusal(id, 413, "request_too_large", `${me} takes bodies of at most ${maxBody} bytes`));
    const refused = gate(from, req);
    if (refused) return void refuse(from, refused);
    if (inFlight.size + tunnelInFlight >= maxInFlight) return void refuse(from, refusal(id, 503, "busy", `${me} is running ${maxInFlight} requests`, [["retry-after", "1"]]));
    const job = run(from, req)
      .then((r) => {
        stats.answered++;
        return reply(from, r);
      })
      .finally(() => {
        inFlight.delete(job);
        stats.inFlight = inFlight.size;
      });
    inFlight.add(job);
    stats.inFlight = inFlight.size;
  };

  let daemon: Daemon | null = null;
  if (opts.tunnel !== false) {
    try {
      const channel = notificationControlChannel({ client, keys: client.keys, device: API_DEVICE_NAME, onRejected: (f, sid, r) => daemon?.rejected(f, sid, r) });
      await channel.ready;
      daemon = startDaemon({
        client,
        keys: client.keys,
        channel,
        name: API_DEVICE_NAME,
        permits: [parsePermit(API_TUNNEL_TARGET)],
        // Sessions for every @sign that could pass `gate`; each request is still checked on its own.
        allow: allow.has("*") || opts.capabilityRootKey ? ["*"] : [...allow],
        serveStream: (peer, pipe) =>
          serveTunnelStream(peer, pipe, {
            me,
            gate,
            enter: () => {
              if (inFlight.size + tunnelInFlight >= maxInFlight) return false;
              tunnelInFlight++;
              return true;
            },
            leave: () => void tunnelInFlight--,
            run: async (from, request) => outer.fetch(request, { atSign: from }),
            timeoutMs,
            refused: () => void stats.refused++,
            answered: () => void stats.answered++,
          }),
      });
    } catch (e) {
      monitor.close();
      if (owned) client.close();
      throw e;
    }
  }

  const loop = (async () => {
    try {
      for await (const n of monitor) {
        try {
          onRequest(n);
        } catch (e) {
          // One bad notification must not stop the API.
          log.warn("request dropped", { from: n.from, id: n.id, error: (e as Error).message });
        }
      }
    } catch (e) {
      log.error("monitor ended", { atSign: me, error: (e as Error).message });
    }
  })();

  return {
    atSign: me,
    stats: () => {
      const t = daemon?.counts();
      return { ...stats, inFlight: inFlight.size + tunnelInFlight, tunnelQueuedBytes: t?.queuedBytes ?? 0, tunnelStreams: t?.streams ?? 0 };
    },
    async close() {
      daemon?.stop();
      monitor.close();
      await loop;
      await Promise.allSettled([...inFlight]);
      if (owned) client.close();
    },
  };
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
