/**
 * The request/response envelope of an HTTP exchange carried by @sign notifications: compact JSON (version
 * `v`, short field names), body as base64, validated with zod on the way in because it comes from another
 * @sign. The caller's @sign is deliberately NOT in the envelope: the receiving atServer sets the
 * notification's `from` after the pol handshake, and only that is trusted.
 *
 * Request  `{"v":1,"id","m","p","h":[[name,value]...],"b"?,"cap"?,"dl"}`
 * Response `{"v":1,"id","s","h":[[name,value]...],"b"?}`
 */
import { ENGLISH } from "../../../core/zod_english.ts";
import { z } from "zod/mini";

/** Envelope format version; a reader refuses others. */
export const ENVELOPE_VERSION = 1;
/** Largest body one notification carries: the encrypted envelope (about 1.8× the body) must stay well under the 1 MiB a monitor may buffer. */
export const MAX_ENVELOPE_BODY_BYTES = 256 * 1024;
/** Default body bound of serveApi and atFetch (requests and responses). */
export const DEFAULT_API_BODY_BYTES = 64 * 1024;
/** Most headers in one envelope. */
export const MAX_ENVELOPE_HEADERS = 64;
/** Most bytes of header names and values together in one envelope. */
export const MAX_ENVELOPE_HEADER_BYTES = 16 * 1024;
/** Longest path (with query) in a request. */
export const MAX_ENVELOPE_PATH_CHARS = 8 * 1024;
/** Longest capability token text carried. */
export const MAX_ENVELOPE_CAPABILITY_CHARS = 8 * 1024;

/**
 * Response header of a `response_too_large` refusal: the same request could be answered over the tunnel path.
 * A caller with a relay repeats a GET or HEAD there (safe methods only: the app runs again).
 */
export const TUNNEL_RETRY_HEADER = "x-inlay-retry";
/** Its value. */
export const TUNNEL_RETRY_VALUE = "tunnel";

/** Request ids: the notification id, a UUID made by the caller. */
export const REQUEST_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Headers that describe one hop (or are recomputed), never forwarded across the envelope. */
const HOP_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection", "host", "content-length"]);

const headerList = z
  .array(z.tuple([z.string().check(z.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/)), z.string().check(z.maxLength(MAX_ENVELOPE_HEADER_BYTES), z.regex(/^[^\r\n\0]*$/))]))
  .check(
    z.maxLength(MAX_ENVELOPE_HEADERS),
    z.refine((h) => h.reduce((n, [k, v]) => n + k.length + v.length, 0) <= MAX_ENVELOPE_HEADER_BYTES, `headers larger than ${MAX_ENVELOPE_HEADER_BYTES} bytes`),
  );
const body = z.base64().check(z.maxLength(Math.ceil(MAX_ENVELOPE_BODY_BYTES / 3) * 4));

const requestSchema = z.strictObject({
  v: z.literal(ENVELOPE_VERSION),
  id: z.string().check(z.regex(REQUEST_ID_RE)),
  m: z.string().check(z.regex(/^[A-Z]{1,16}$/)),
  p: z.string().check(z.maxLength(MAX_ENVELOPE_PATH_CHARS), z.regex(/^\/[^\s#]*$/, "a path starts with / and holds no whitespace or #")),
  h: headerList,
  b: z.optional(body),
  cap: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_ENVELOPE_CAPABILITY_CHARS))),
  dl: z.int().check(z.positive()),
});

const responseSchema = z.strictObject({
  v: z.literal(ENVELOPE_VERSION),
  id: z.string().check(z.regex(REQUEST_ID_RE)),
  s: z.int().check(z.minimum(200), z.maximum(599)),
  h: headerList,
  b: z.optional(body),
});

/** A request as carried: method upper-case, path with query, body bytes (empty when none). */
export interface ApiRequestEnvelope {
  id: string;
  method: string;
  path: string;
  headers: [string, string][];
  body: Uint8Array;
  /** Capability token text, when the caller sent one. */
  capability?: string;
  /** Caller's deadline (ms since the epoch): an answer after it is useless. */
  deadline: number;
}

/** A response as carried. */
export interface ApiResponseEnvelope {
  id: string;
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

/** Headers worth carrying: hop-by-hop ones dropped, names lower-case. */
export function envelopeHeaders(headers: Headers): [string, string][] {
  const out: [string, string][] = [];
  headers.forEach((value, name) => {
    if (!HOP_HEADERS.has(name.toLowerCase())) out.push([name.toLowerCase(), value]);
  });
  return out;
}

/** JSON text of a request envelope. */
export function encodeRequestEnvelope(r: ApiRequestEnvelope): string {
  return JSON.stringify({
    v: ENVELOPE_VERSION,
    id: r.id,
    m: r.method,
    p: r.path,
    h: r.headers,
    ...(r.body.byteLength ? { b: r.body.toBase64() } : {}),
    ...(r.capability !== undefined ? { cap: r.capability } : {}),
    dl: r.deadline,
  });
}

/** JSON text of a response envelope. */
export function encodeResponseEnvelope(r: ApiResponseEnvelope): string {
  return JSON.stringify({ v: ENVELOPE_VERSION, id: r.id, s: r.status, h: r.headers, ...(r.body.byteLength ? { b: r.body.toBase64() } : {}) });
}

/**
 * Parses a request envelope; a string says what is wrong with it.
 * @example decodeRequestEnvelope('{"v":1,"id":"…","m":"GET","p":"/x","h":[],"dl":1}')
 */
export function decodeRequestEnvelope(text: string): ApiRequestEnvelope | string {
  const r = requestSchema.safeParse(parseJson(text), ENGLISH);
  if (!r.success) return `bad request envelope: ${z.prettifyError(r.error)}`;
  const d = r.data;
  return {
    id: d.id,
    method: d.m,
    path: d.p,
    headers: d.h,
    body: d.b ? Uint8Array.fromBase64(d.b) : new Uint8Array(0),
    ...(d.cap !== undefined ? { capability: d.cap } : {}),
    deadline: d.dl,
  };
}

/** Parses a response envelope; a string says what is wrong with it. */
export function decodeResponseEnvelope(text: string): ApiResponseEnvelope | string {
  const r = responseSchema.safeParse(parseJson(text), ENGLISH);
  if (!r.success) return `bad response envelope: ${z.prettifyError(r.error)}`;
  const d = r.data;
  return { id: d.id, status: d.s, headers: d.h, body: d.b ? Uint8Array.fromBase64(d.b) : new Uint8Array(0) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Statuses whose response has no body (the Response constructor refuses one). */
export function isNullBodyStatus(status: number): boolean {
  return status === 204 || status === 205 || status === 304;
}
