/**
 * The provisioning API of a hosting process (hono), on loopback by default:
 *
 *   POST   /v1/tenants                  {"atSign":"@a","port":0}  -> 201 {"atSign","host","port","cramSecret"}
 *   GET    /v1/tenants?after=@a&limit=n  -> {"items":[{"atSign","host","port"}],"next":"@x"|null}
 *   GET    /v1/tenants/:atsign           -> {"atSign","host","port","onboarded","connections","storageBytes","open"}
 *   POST   /v1/tenants/:atsign/reset     -> {"atSign","cramSecret"}   (keys wiped, connections closed)
 *   GET    /v1/tenants/:atsign/export    -> the tenant file (server/hosting/tenant_file.ts)
 *   POST   /v1/tenants/import?port=n     the tenant file -> 201 {"atSign","host","port"}
 *   DELETE /v1/tenants/:atsign           -> {"deleted":true}
 *   GET    /healthz                      -> {"ok":true,"tenants":n,"open":n}   (no token)
 *   GET    /readyz                       -> {"ready":true} | 503          (no token)
 *   GET    /metrics                      -> Prometheus text, every tenant summed (token)
 *
 * Every /v1 route needs `Authorization: Bearer <token>` (DIR/admin.token, 0600). Errors are `{"error":"..."}`.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import * as z from "zod/mini";
import { atSignProblem, atSignSchema, normalizeAtSign } from "../../core/atsign.ts";
import { constantTimeEqual } from "../../core/crypto/constant_time_equal.ts";
import { logger } from "../../core/log.ts";
import { adminRoutes } from "../../core/metrics/admin_routes.ts";
import { ADMIN_BODY_LIMIT_BYTES, pageQuerySchema } from "../../directory/admin_api.ts";
import { createTenant, deleteTenant, exportTenantFile, importTenant, listTenants, ProvisioningError, resetTenant, tenantStatus, type Hosting } from "./provisioning.ts";
import { hostingObservable } from "./hosting_metrics.ts";
import { TENANT_FILE_MAX_BYTES, tenantFileSchema } from "./tenant_file.ts";

const log = logger("hosting");

const portSchema = z.number({ error: "port must be a number" }).check(z.int("port must be an integer"), z.minimum(0, "port must be 0 to 65535"), z.maximum(65535, "port must be 0 to 65535"));

const createSchema = z.strictObject(
  { atSign: atSignSchema, port: z.optional(portSchema) },
  { error: (iss) => (iss.code === "unrecognized_keys" ? `unknown field(s): ${iss.keys.join(", ")}` : 'body must be a JSON object {"atSign":"@name","port":0}') },
);

const portQuerySchema = z.pipe(
  z.optional(z.string().check(z.regex(/^\d{1,5}$/, "port must be 0 to 65535"))),
  z.transform((p: string | undefined) => (p === undefined ? 0 : Number(p))),
).check(z.refine((n) => n <= 65535, "port must be 0 to 65535"));

type Status = 400 | 401 | 404 | 409 | 413 | 500 | 502 | 503;
const fail = (c: Context, status: Status, error: string) => c.json({ error }, status);
const firstIssue = (e: z.core.$ZodError) => e.issues[0]?.message ?? "invalid input";

/** Parses the JSON body with `schema`, or answers 400. */
async function parsedBody<T>(c: Context, schema: z.ZodMiniType<T>): Promise<T | Response> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    return fail(c, 400, "body must be valid JSON");
  }
  const parsed = schema.safeParse(body);
  return parsed.success ? parsed.data : fail(c, 400, firstIssue(parsed.error));
}

/**
 * Builds the API over `h`, guarded by `token`. Serve it with `Bun.serve({ fetch: app.fetch })`.
 * @example const app = provisioningApi(hosting, token);
 */
export function provisioningApi(h: Hosting, token: string): Hono {
  const app = new Hono();
  const expected = "Bearer " + token;
  app.onError((err, c) => {
    if (err instanceof ProvisioningError) return fail(c, err.status, err.message);
    log.error("provisioning request failed", { path: c.req.path, error: String(err) });
    return fail(c, 500, "internal error");
  });
  app.notFound((c) => fail(c, 404, `no route ${c.req.method} ${c.req.path}`));
  const observe = adminRoutes(hostingObservable(h.pool, () => h.pool.sweep !== null), token, "inlay-hosting");
  app.on(["GET", "HEAD"], ["/healthz", "/readyz", "/metrics"], (c) => observe(c.req.raw)!);

  app.use("/v1/*", async function adminAuth(c, next) {
    if (!constantTimeEqual(c.req.header("authorization") ?? "", expected)) {
      c.header("WWW-Authenticate", 'Bearer realm="inlay-hosting"');
      return fail(c, 401, "missing or wrong bearer token");
    }
    await next();
  });
  app.use("/v1/tenants/import", bodyLimit({ maxSize: TENANT_FILE_MAX_BYTES, onError: (c) => fail(c, 413, `a tenant file is at most ${TENANT_FILE_MAX_BYTES} bytes`) }));
  app.use("/v1/*", async function smallBodies(c, next) {
    if (c.req.path === "/v1/tenants/import") return next();
    return bodyLimit({ maxSize: ADMIN_BODY_LIMIT_BYTES, onError: (c2) => fail(c2, 413, `body must be at most ${ADMIN_BODY_LIMIT_BYTES} bytes`) })(c, next);
  });

  const atSignParam = (c: Context): string | Response => {
    const raw = c.req.param("atsign") ?? "";
    const problem = atSignProblem(raw.trim());
    return problem ? fail(c, 400, `@sign "${raw}" ${problem}`) : normalizeAtSign(raw);
  };

  app.post("/v1/tenants", async (c) => {
    const body = await parsedBody(c, createSchema);
    if (body instanceof Response) return body;
    return c.json(await createTenant(h, body.atSign, body.port ?? 0), 201);
  });
  app.get("/v1/tenants", (c) => {
    const parsed = pageQuerySchema.safeParse({ after: c.req.query("after"), limit: c.req.query("limit") });
    if (!parsed.success) return fail(c, 400, firstIssue(parsed.error));
    return c.json(listTenants(h, parsed.data.after ? normalizeAtSign(parsed.data.after) : null, parsed.data.limit));
  });
  app.post("/v1/tenants/import", async (c) => {
    const port = portQuerySchema.safeParse(c.req.query("port"));
    if (!port.success) return fail(c, 400, firstIssue(port.error));
    const file = await parsedBody(c, tenantFileSchema);
    if (file instanceof Response) return file;
    return c.json(await importTenant(h, file, port.data), 201);
  });
  /** A route on one tenant: the :atsign parameter checked, then `run`'s answer as JSON. */
  const onTenant = (run: (atSign: string) => unknown) => async (c: Context) => {
    const atSign = atSignParam(c);
    return atSign instanceof Response ? atSign : c.json(await run(atSign));
  };
  app.get("/v1/tenants/:atsign", onTenant((a) => tenantStatus(h, a)));
  app.post("/v1/tenants/:atsign/reset", onTenant((a) => resetTenant(h, a)));
  app.get("/v1/tenants/:atsign/export", onTenant((a) => exportTenantFile(h, a)));
  app.delete("/v1/tenants/:atsign", onTenant((a) => deleteTenant(h, a)));
  return app;
}
