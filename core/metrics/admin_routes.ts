/**
 * The operator's three routes, the same on the directory's admin API and the atServer's admin port:
 *
 *   GET /metrics  Prometheus text 0.0.4; needs `Authorization: Bearer <admin token>` (401 otherwise)
 *   GET /healthz  200 {"ok":true,...}: the process is alive and serving HTTP; no token
 *   GET /readyz   200 {"ready":true} | 503 {"ready":false,"problems":[...]}: accepting work; no token
 *
 * /metrics needs the token although it carries no private data: counts of lookups, refusals and @signs served
 * tell an outsider how busy and how attacked a host is, and Prometheus sends a bearer token from a file
 * (`authorization.credentials_file`) at no cost. The probes stay open so that a supervisor needs no secret;
 * they say only "up" and which dependency is missing. All of it listens on loopback unless told otherwise.
 */
import { constantTimeEqual } from "../crypto/constant_time_equal.ts";
import { EXPOSITION_CONTENT_TYPE } from "./exposition.ts";

/** What the routes ask the service. */
export interface Observable {
  /** The Prometheus exposition. */
  metrics(): string;
  /** Why the service cannot accept work now (short fixed phrases, no private data); empty when ready. */
  readiness(): Promise<string[]> | string[];
  /** Extra fields of the /healthz answer. */
  health?(): Record<string, unknown>;
}

/** The observability routes: a Response for /metrics, /healthz and /readyz, null for any other path. */
export type AdminRoutes = (req: Request) => Response | Promise<Response> | null;

/**
 * Routes over `service`, with /metrics guarded by `token`.
 * @example const routes = adminRoutes(svc, token); Bun.serve({ fetch: (r) => routes(r) ?? notFound() });
 */
export function adminRoutes(service: Observable, token: string, realm: string): AdminRoutes {
  const expected = "Bearer " + token;
  return (req) => {
    const path = new URL(req.url).pathname;
    if (path !== "/metrics" && path !== "/healthz" && path !== "/readyz") return null;
    if (req.method !== "GET" && req.method !== "HEAD") return Response.json({ error: `${path} answers GET only` }, { status: 405, headers: { allow: "GET, HEAD" } });
    if (path === "/healthz") return Response.json({ ok: true, ...service.health?.() });
    if (path === "/readyz") return ready(service);
    if (!constantTimeEqual(req.headers.get("authorization") ?? "", expected)) {
      return Response.json({ error: "missing or wrong bearer token" }, { status: 401, headers: { "www-authenticate": `Bearer realm="${realm}"` } });
    }
    return new Response(service.metrics(), { headers: { "content-type": EXPOSITION_CONTENT_TYPE } });
  };
}

async function ready(service: Observable): Promise<Response> {
  let problems: string[];
  try {
    problems = await service.readiness();
  } catch {
    problems = ["readiness check failed"];
  }
  return problems.length === 0 ? Response.json({ ready: true }) : Response.json({ ready: false, problems }, { status: 503 });
}
