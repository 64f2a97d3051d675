/**
 * The directory's admin HTTP API (hono): register, read, delete and list @sign -> host:port entries.
 *
 *   PUT    /v1/atsigns/:atsign   {"host":"h","port":1234} -> 200 {"atSign":"@alice","host":"h","port":1234}
 *   GET    /v1/atsigns/:atsign   -> 200 same shape | 404 {"error":"..."}
 *   DELETE /v1/atsigns/:atsign   -> 200 {"deleted":true} | 404
 *   GET    /v1/atsigns?after=<atsign>&limit=<1..1000> -> {"items":[...],"next":"@x"|null}
 *   GET    /healthz              -> {"ok":true,"count":n}   (no token)
 *   GET    /readyz               -> {"ready":true} | 503    (no token)
 *   GET    /metrics              -> Prometheus text         (token; core/metrics/admin_routes.ts)
 *
 * Every /v1 route needs `Authorization: Bearer <token>`. Errors are JSON `{"error":"<what and why>"}`.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import * as z from "zod/mini";
import { atSignProblem, normalizeAtSign } from "../core/atsign.ts";
import { constantTimeEqual } from "../core/crypto/constant_time_equal.ts";
import { logger } from "../core/log.ts";
import { adminRoutes } from "../core/metrics/admin_routes.ts";
import { countAdminCall, directoryObservable, newAdminCalls, type RootView } from "./metrics.ts";
import { REGISTRY_PAGE_MAX, type Registration, type Registry } from "./registry.ts";

/** Largest request body the admin API reads. */
export const ADMIN_BODY_LIMIT_BYTES = 4 * 1024;
/** Page size of a list request without `limit`. */
export const ADMIN_PAGE_DEFAULT = 100;
/** Longest host name (DNS limit). */
const HOST_MAX_CHARS = 253;

const log = logger("directory");

// The host travels inside the root reply `host:port\r\n@`: clients split it on ":" and Dart's client deletes
// every "@", so only DNS-name and IPv4 characters are safe.
const hostSchema = z.string({ error: "host must be a string" }).check(
  z.minLength(1, "host must not be empty"),
  z.maxLength(HOST_MAX_CHARS, `host must be at most ${HOST_MAX_CHARS} characters`),
  z.refine((h) => !h.includes(":"), 'host must not contain ":" (clients split the directory reply on ":"; IPv6 literals cannot be published, use a DNS name)'),
  z.refine((h) => /^[A-Za-z0-9._-]+$/.test(h), "host may contain only letters, digits, '.', '-' and '_'"),
);

const registrationSchema = z.strictObject(
  {
    host: hostSchema,
    port: z.number({ error: "port must be a number" }).check(z.int("port must be an integer"), z.minimum(1, "port must be 1 to 65535"), z.maximum(65535, "port must be 1 to 65535")),
  },
  { error: (iss) => (iss.code === "unrecognized_keys" ? `unknown field(s): ${iss.keys.join(", ")}` : 'body must be a JSON object {"host":"...","port":1234}') },
);

/** The `after` and `limit` query of a paged list (also the hosting API's tenant list). */
const LIMIT_MESSAGE = `limit must be an integer from 1 to ${REGISTRY_PAGE_MAX}`;
export const pageQuerySchema = z.object({
  after: z.optional(z.string()).check(
    z.refine((a) => a === undefined || a === "" || atSignProblem(a) === null, { error: (iss) => `after: @sign "${String(iss.input)}" ${atSignProblem(String(iss.input))}` }),
  ),
  limit: z
    .pipe(
      z.optional(z.string()).check(z.refine((l) => l === undefined || /^\d{1,4}$/.test(l), LIMIT_MESSAGE)),
      z.transform((l: string | undefined) => (l === undefined ? ADMIN_PAGE_DEFAULT : Number(l))),
    )
    .check(z.refine((n) => n >= 1 && n <= REGISTRY_PAGE_MAX, LIMIT_MESSAGE)),
});

const view = (r: Registration) => ({ atSign: r.atSign, host: r.host, port: r.port });
const fail = (c: Context, status: 400 | 401 | 404 | 413 | 500, error: string) => c.json({ error }, status);
const firstIssue = (e: z.core.$ZodError) => {
  const i = e.issues[0];
  return i ? i.message : "invalid input";
};

/**
 * Builds the admin app over `registry`, guarded by `token`; /metrics also shows `root`'s figures. Serve it
 * with `Bun.serve({ fetch: app.fetch })`; tests call `app.request(...)`.
 * @example const app = adminApi(registry, token); await app.request("/healthz");
 */
export function adminApi(registry: Registry, token: string, root: RootView | null = null): Hono {
  const app = new Hono();
  const expected = "Bearer " + token;
  const calls = newAdminCalls();
  const observe = adminRoutes(directoryObservable(registry, root, calls), token, "inlay-directory");

  app.onError((err, c) => {
    log.error("admin request failed", { path: c.req.path, error: String(err) });
    return fail(c, 500, "internal error");
  });
  app.notFound((c) => fail(c, 404, `no route ${c.req.method} ${c.req.path}`));

  app.on(["GET", "HEAD"], ["/healthz", "/readyz", "/metrics"], (c) => observe(c.req.raw)!);

  app.use("/v1/*", async function countCall(c, next) {
    await next();
    countAdminCall(calls, c.req.method, c.req.path, c.res.status);
  });
  app.use("/v1/*", async function adminAuth(c, next) {
    const header = c.req.header("authorization") ?? "";
    if (!constantTimeEqual(header, expected)) {
      c.header("WWW-Authenticate", 'Bearer realm="inlay-directory"');
      return fail(c, 401, "missing or wrong bearer token");
    }
    await next();
  });
  app.use("/v1/*", bodyLimit({ maxSize: ADMIN_BODY_LIMIT_BYTES, onError: (c) => fail(c, 413, `body must be at most ${ADMIN_BODY_LIMIT_BYTES} bytes`) }));

  // Resolves the :atsign path parameter (with or without "@", %40 decoded by hono) or answers 400.
  const atSignParam = (c: Context): string | Response => {
    const raw = c.req.param("atsign") ?? "";
    const problem = atSignProblem(raw.trim());
    return problem ? fail(c, 400, `@sign "${raw}" ${problem}`) : normalizeAtSign(raw);
  };

  app.put("/v1/atsigns/:atsign", async (c) => {
    const atSign = atSignParam(c);
    if (atSign instanceof Response) return atSign;
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return fail(c, 400, "body must be valid JSON");
    }
    const parsed = registrationSchema.safeParse(body);
    if (!parsed.success) return fail(c, 400, firstIssue(parsed.error));
    const saved = await registry.put(atSign, parsed.data.host, parsed.data.port);
    log.info("registered", { atSign, host: saved.host, port: saved.port });
    return c.json(view(saved));
  });

  app.get("/v1/atsigns/:atsign", async (c) => {
    const atSign = atSignParam(c);
    if (atSign instanceof Response) return atSign;
    const found = await registry.get(atSign);
    return found ? c.json(view(found)) : fail(c, 404, `${atSign} is not registered`);
  });

  app.delete("/v1/atsigns/:atsign", async (c) => {
    const atSign = atSignParam(c);
    if (atSign instanceof Response) return atSign;
    if (!(await registry.remove(atSign))) return fail(c, 404, `${atSign} is not registered`);
    log.info("unregistered", { atSign });
    return c.json({ deleted: true });
  });

  app.get("/v1/atsigns", async (c) => {
    const parsed = pageQuerySchema.safeParse({ after: c.req.query("after"), limit: c.req.query("limit") });
    if (!parsed.success) return fail(c, 400, firstIssue(parsed.error));
    const after = parsed.data.after ? normalizeAtSign(parsed.data.after) : null;
    const page = await registry.list(after, parsed.data.limit);
    return c.json({ items: page.items.map(view), next: page.next });
  });

  return app;
}
