/**
 * The API side of the tunnel path: serveApi runs a tunnel daemon (client/tunnel/daemon.ts) for its @sign under
 * the device name API_DEVICE_NAME, and each stream a caller opens carries one HTTP/1.1 exchange, answered by
 * calling the app in process (no socket): the request body is a ReadableStream fed by the stream, the
 * response body is pulled only as fast as the stream takes it, so memory stays bounded both ways.
 *
 * The caller is the @sign the daemon verified in the session's key agreement (its signed X25519 offer, checked
 * against its public key), handed to `serveTunnelStream` as `peer`; no header can claim one.
 */
import { logger } from "../../../core/log.ts";
import { abortStream, attachPlain, plainClosed, plainData, plainDrain, plainEnd, type StreamPipe } from "../../tunnel/stream_pipe.ts";
import type { ApiResponseEnvelope } from "./envelope.ts";
import { ByteReader, bodyStream, encodeHead, framingOf, HttpFramingError, readHead, requestLine, writeChunked } from "./http1.ts";
import { newStreamSocket, StreamGoneError, type StreamSocket } from "./stream_socket.ts";

const log = logger("api");

/** Daemon name under which serveApi takes tunnel sessions (the control notifications' device part). */
export const API_DEVICE_NAME = "inlayapi";
/** The target named in tunnel requests to an API (there is no socket behind it; the app answers in process). */
export const API_TUNNEL_TARGET = "inlay-api:1";
/** Time from a stream's opening to the end of its request head. */
export const TUNNEL_HEAD_TIMEOUT_MS = 10_000;
/** After its response, how long a stream waits for the rest of the caller's request before it is aborted. */
export const TUNNEL_LINGER_MS = 10_000;
/** Request header carrying a capability token (taken out before the app sees the request). */
export const TUNNEL_CAPABILITY_HEADER = "x-inlay-capability";

/** What a tunnel exchange needs from serveApi. */
export interface TunnelExchange {
  me: string;
  /** Access checks; a refusal, or null to run the app. */
  gate(from: string, req: { id: string; method: string; path: string; capability?: string }): ApiResponseEnvelope | null;
  /** Takes an in-flight slot; false when none is free. */
  enter(): boolean;
  leave(): void;
  /** Runs the app with the verified caller. */
  run(from: string, request: Request): Promise<Response>;
  /** Time the app may take to produce the response head. */
  timeoutMs: number;
  refused(): void;
  answered(): void;
}

/**
 * Serves one stream of a session with `peer` (verified @sign): attaches an in-process plain side to `pipe`
 * and answers its request in the background.
 */
export function serveTunnelStream(peer: string, pipe: StreamPipe, x: TunnelExchange): Promise<void> {
  const s = newStreamSocket();
  s.bind({
    data: (c) => plainData(pipe, c),
    drain: () => plainDrain(pipe),
    end: () => plainEnd(pipe),
    closed: () => plainClosed(pipe),
    abort: (reason) => abortStream(pipe, reason),
  });
  attachPlain(pipe, s.sock);
  void exchange(peer, s, x).catch((e: unknown) => {
    // A caller that went away mid-response is routine; anything else is worth a warning.
    if (e instanceof StreamGoneError) log.debug("caller left during the response", { from: peer });
    else log.warn("tunnel exchange failed", { from: peer, error: (e as Error).message });
    s.abort();
  });
  return Promise.resolve();
}

async function exchange(peer: string, s: StreamSocket, x: TunnelExchange): Promise<void> {
  const r = new ByteReader(s.readable.getReader());
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), TUNNEL_HEAD_TIMEOUT_MS)));
  let head;
  let line;
  let framing;
  try {
    head = await Promise.race([readHead(r), late]);
    if (head === "timeout") return s.abort();
    if (head === null) return finish(s, r);
    line = requestLine(head);
    framing = framingOf(head.headers, false);
  } catch (e) {
    if (!(e instanceof HttpFramingError)) throw e;
    x.refused();
    return respondJson(s, r, 400, "bad_request", e.message);
  } finally {
    clearTimeout(timer);
  }
  const capability = head.headers.find(([k]) => k === TUNNEL_CAPABILITY_HEADER)?.[1];
  const headers = head.headers.filter(([k]) => k !== TUNNEL_CAPABILITY_HEADER);
  const refusal = x.gate(peer, { id: "", method: line.method, path: line.path, ...(capability ? { capability } : {}) });
  if (refusal) {
    x.refused();
    return respond(s, r, refusal.status, refusal.headers, refusal.body);
  }
  if (!x.enter()) {
    x.refused();
    return respondJson(s, r, 503, "busy", `${x.me} is running its maximum of requests`, [["retry-after", "1"]]);
  }
  try {
    const body = bodyStream(r, framing);
    const abort = new AbortController();
    void s.done.then(() => abort.abort());
    const request = new Request(`http://api.at.invalid${line.path}`, {
      method: line.method,
      headers,
      ...(body && line.method !== "GET" && line.method !== "HEAD" ? { body, duplex: "half" } : {}),
      signal: abort.signal,
    } as RequestInit);
    let timer2: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => (timer2 = setTimeout(() => resolve("timeout"), x.timeoutMs)));
    let res: Response | "timeout";
    try {
      res = await Promise.race([x.run(peer, request), timedOut]);
    } catch (e) {
      log.warn("handler failed", { from: peer, error: (e as Error).message });
      return await respondJson(s, r, 500, "handler_failed", "the API failed to answer");
    } finally {
      clearTimeout(timer2);
    }
    if (res === "timeout") {
      abort.abort();
      return await respondJson(s, r, 504, "handler_timeout", `${x.me} did not answer within ${x.timeoutMs} ms`);
    }
    x.answered();
    const noBody = line.method === "HEAD" || res.status === 204 || res.status === 304 || !res.body;
    await s.write(encodeHead(`HTTP/1.1 ${res.status} ${res.statusText || "-"}`.trimEnd(), res.headers, noBody ? [["content-length", "0"]] : [["transfer-encoding", "chunked"]]));
    if (!noBody) await writeChunked(res.body!, (b) => s.write(b));
    finish(s, r);
  } finally {
    x.leave();
  }
}

/**
 * END after the response; what is left of the request is read and dropped until the caller's END (the caller
 * stops sending once it has the whole response), so the stream ends cleanly, within TUNNEL_LINGER_MS.
 */
function finish(s: StreamSocket, r: ByteReader): void {
  s.end();
  r.cancel();
  const timer = setTimeout(() => s.abort(), TUNNEL_LINGER_MS);
  void s.done.then(() => clearTimeout(timer));
}

async function respond(s: StreamSocket, r: ByteReader, status: number, headers: [string, string][], body: Uint8Array): Promise<void> {
  await s.write(encodeHead(`HTTP/1.1 ${status} -`, headers, [["content-length", String(body.byteLength)]]));
  if (body.byteLength) await s.write(body);
  finish(s, r);
}

function respondJson(s: StreamSocket, r: ByteReader, status: number, error: string, detail: string, extra: [string, string][] = []): Promise<void> {
  return respond(s, r, status, [["content-type", "application/json"], ...extra], new TextEncoder().encode(JSON.stringify({ error, detail })));
}
