/**
 * Shared set-up of the API tests: a real stack (directory + one atServer per @sign) with SDK clients
 * onboarded into it, and the hono app the tests serve by @sign.
 */
import { Hono } from "hono";
import type { AtApiEnv } from "../../client/api/serve/index.ts";

export { keysFileOf, netOf, onboarded } from "../sdk_fixture.ts";

/** The app under test: who is calling, an echo, items under /v1, and a slow route. */
export function testApp(): Hono<AtApiEnv> {
  return new Hono<AtApiEnv>()
    .get("/hello", (c) => c.json({ hello: c.get("atSign") }))
    .post("/echo", async (c) =>
      c.body(await c.req.arrayBuffer(), 201, { "content-type": c.req.header("content-type") ?? "application/octet-stream", "x-query": new URL(c.req.url).search, "x-caller": c.get("atSign") }),
    )
    .get("/v1/items", (c) => c.json({ items: [1, 2, 3], caller: c.get("atSign") }))
    .post("/v1/items", (c) => c.json({ created: true }, 201))
    .get("/v1/items/public", (c) => c.json({ public: true }))
    .get("/big", (c) => c.body(new Uint8Array(Number(c.req.query("n") ?? "0"))))
    .get("/slow", async (c) => {
      await Bun.sleep(Number(c.req.query("ms") ?? "0"));
      return c.text("late");
    })
    .get("/none", (c) => c.body(null, 204));
}
