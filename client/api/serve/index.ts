/**
 * APIs with no open port: `serveApi` answers HTTP requests to a hono app that arrive as notifications
 * encrypted for the API's @sign (the caller's @sign verified by the atServers, `c.get("atSign")`), with
 * allow/block lists and capability tokens checked first; `atFetch` / `ApiCaller` call such an API and return
 * a standard `Response`. Small bodies travel inside one notification; large or streaming ones over a relayed
 * tunnel stream (HTTP/1.1 to the app in process, the caller's @sign verified by the tunnel's key agreement).
 *
 * @example
 * ```ts
 * const app = new Hono<AtApiEnv>().get("/hello", (c) => c.json({ hello: c.get("atSign") }));
 * const served = await serveApi(app, { as: "@api", directory, allow: ["@bob"] });
 * const caller = await ApiCaller.open(bob);
 * const res = await caller.fetch("@api", "/hello"); // 200 {"hello":"@bob"}
 * ```
 */
export {
  ApiCaller,
  atFetch,
  AtFetchError,
  CAPABILITY_HEADER,
  DEFAULT_AT_FETCH_TIMEOUT_MS,
  MAX_PENDING_CALLS,
  type ApiCallerOptions,
  type AtFetchFailure,
  type AtFetchOptions,
  type CallOptions,
} from "./at_fetch.ts";
export {
  DEFAULT_API_BODY_BYTES,
  decodeRequestEnvelope,
  decodeResponseEnvelope,
  encodeRequestEnvelope,
  encodeResponseEnvelope,
  ENVELOPE_VERSION,
  MAX_ENVELOPE_BODY_BYTES,
  MAX_ENVELOPE_HEADERS,
  MAX_ENVELOPE_HEADER_BYTES,
  MAX_ENVELOPE_PATH_CHARS,
  type ApiRequestEnvelope,
  type ApiResponseEnvelope,
} from "./envelope.ts";
export {
  DEFAULT_HANDLER_TIMEOUT_MS,
  DEFAULT_MAX_IN_FLIGHT,
  REQUEST_KEY_SUFFIX,
  RESPONSE_KEY_SUFFIX,
  serveApi,
  type AtApiEnv,
  type ServeApiOptions,
  type ServeApiStats,
  type ServedApi,
} from "./serve_api.ts";
export { API_DEVICE_NAME, API_TUNNEL_TARGET, TUNNEL_HEAD_TIMEOUT_MS, TUNNEL_LINGER_MS } from "./tunnel_serve.ts";
export { API_TUNNEL_SETUP_TIMEOUT_MS, MAX_API_TUNNELS } from "./tunnel_call.ts";
