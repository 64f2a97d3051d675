/**
 * What the HTTP interface serves (the reference's docs/http-interface.md): `GET <path>?at_rt=&at_ct=` reads the
 * @sign's own `public:` record the path names, without authentication. Nothing else is reachable: the key is
 * always `public:<name>@<me>`, and a name that could leave that form (`@`, `:` or white space in it) is a 404.
 *
 * Path → key: leading `/`s, then a leading `@<me>/`, then `public:` and a trailing `@<me>` are removed; the
 * `/`-separated segments are reversed and joined with `.` (`/wavi/location` → `public:location.wavi@alice`).
 */
import { base2e15Decode } from "../../core/base2e15.ts";
import { lookupAllJson, metadataJson } from "../../core/verbs/index.ts";
import type { ServerContext } from "../context.ts";
import { perEnrollmentOwner } from "../enroll/grants.ts";
import { readEnrollment } from "../enroll/enrollment_store.ts";
import { atMetadata } from "../format.ts";
import { isActive } from "../metadata.ts";
import type { StoredRecord } from "../store/keystore.ts";
import type { HttpRequest, HttpResponse } from "./request_reader.ts";

/** Characters a key name taken from a path may not contain (it would name a key outside `public:…@me`). */
const NOT_A_NAME_RE = /[@:\s]/;
/** An `at_ct` a client may ask for: `type/subtype`, tokens only (never CR/LF into a header). */
const MEDIA_TYPE_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}\/[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

/**
 * The storage key a request path names, or null when it names none.
 * @example keyOfPath("/@alice/demo/index.html", "@alice") // "public:index.html.demo@alice"
 */
export function keyOfPath(decodedPath: string, atSign: string): string | null {
  let p = decodedPath.replace(/^\/+/, "").toLowerCase();
  if (p.startsWith(`${atSign}/`)) p = p.slice(atSign.length + 1);
  if (p.startsWith("public:")) p = p.slice("public:".length);
  if (p.endsWith(atSign)) p = p.slice(0, -atSign.length);
  const name = p.split("/").filter((s) => s !== "").reverse().join(".");
  if (name === "" || NOT_A_NAME_RE.test(name)) return null;
  return `public:${name}${atSign}`;
}

/**
 * The record behind a key, or null: missing, not yet available or expired, or data of an enrollment's
 * approved namespace (`<id>.a.__e`) while that enrollment is not approved. The reference moves such data to
 * `<id>.r|d.__e` when the enrollment is revoked, deleted or expires, and refuses it once it lapsed; Inlay
 * leaves it in place, so the state is checked here.
 */
function readablePublic(ctx: ServerContext, key: string): StoredRecord | null {
  const r = ctx.keystore.get(key);
  if (!r || !isActive(r.meta)) return null;
  const enrollmentId = perEnrollmentOwner(key);
  const ofApproved = enrollmentId !== undefined && key.endsWith(`${enrollmentId}.a.__e${ctx.atSign}`);
  if (ofApproved && readEnrollment(ctx, enrollmentId)?.status !== "approved") return null;
  return r;
}

/**
 * The pseudo file path a key's name reads as, for its media type (`index.html.demo` → `demo/index.html`).
 * @example pseudoWebPath("public:index.html.blog.demo@alice", "@alice") // "demo/blog/index.html"
 */
export function pseudoWebPath(key: string, atSign: string): string {
  const parts = key.slice("public:".length, -atSign.length).split(".");
  if (parts.length <= 2) return parts.join(".");
  return [...parts.slice(2).reverse(), `${parts[0]}.${parts[1]}`].join("/");
}

/** The media type its pseudo file path implies, or null (Bun's table; its default means "unknown"). */
function impliedMediaType(key: string, atSign: string): string | null {
  const type = Bun.file(pseudoWebPath(key, atSign)).type.split(";")[0]!;
  return type === "application/octet-stream" ? null : type;
}

/** `at_ct`, else the implied type, else text/plain (octet-stream for a binary value), with the reference's charset. */
function contentType(query: URLSearchParams, key: string, atSign: string, binary: boolean): string | null {
  const asked = query.get("at_ct");
  if (asked !== null && !MEDIA_TYPE_RE.test(asked)) return null;
  return `${asked ?? impliedMediaType(key, atSign) ?? (binary ? "application/octet-stream" : "text/plain")}; charset=utf-8`;
}

/** Answers one request of the HTTP interface (GET only, like the reference; 405 for anything else). */
export function answerPublicRequest(ctx: ServerContext, req: HttpRequest): HttpResponse {
  if (req.method.toUpperCase() !== "GET") return { status: 405, headers: { Allow: "GET" } };
  let url: URL;
  let path: string;
  try {
    url = new URL(req.target, "https://localhost");
    path = decodeURIComponent(url.pathname);
  } catch {
    return { status: 400 };
  }
  const key = keyOfPath(path, ctx.atSign);
  const r = key === null ? null : readablePublic(ctx, key);
  if (key === null || r === null) return { status: 404, headers: { "Content-Type": "text/plain; charset=utf-8" }, body: "404 Not Found" };
  const rt = url.searchParams.get("at_rt");
  if (rt === "meta") return { status: 200, headers: { "Content-Type": "application/json; charset=utf-8" }, body: metadataJson(atMetadata(r.meta)) };
  if (r.value === null) return { status: 200 };
  const binary = r.meta.isBinary === true;
  const type = contentType(url.searchParams, key, ctx.atSign, binary);
  if (type === null) return { status: 400 };
  // A binary value is its decoded bytes whatever at_rt says (its metadata comes with at_rt=meta), as in the reference.
  const body = binary ? base2e15Decode(r.value) : rt === "all" ? lookupAllJson(r.key, r.value, atMetadata(r.meta)) : r.value;
  return { status: 200, headers: { "Content-Type": type }, body };
}
