/**
 * Shared set-up of the API tests: a real stack (directory + one atServer per @sign) with SDK clients
 * onboarded into it, and the hono app the tests serve by @sign.
 */
import { Hono } from "hono";
import { join } from "node:path";
import { AtClient, type ConnectOptions } from "../../client/index.ts";
import type { AtApiEnv } from "../../client/api/serve/index.ts";
import type { Stack } from "../harness.ts";

/** How a client of `stack` finds the network. */
export function netOf(stack: Stack): ConnectOptions {
  return { directory: `${stack.directory.host}:${stack.directory.port}`, caFile: stack.caFile, home: stack.home };
}

/** Where the fixture keeps the .atKeys file of `atSign`. */
export function keysFileOf(stack: Stack, atSign: string): string {
  return join(stack.home, "keys", `${atSign}_key.atKeys`);
}

/** Onboards `atSign` with the SDK and returns its client. */
export async function onboarded(stack: Stack, atSign: string): Promise<AtClient> {
  const s = stack.servers.get(atSign);
  if (!s) throw new Error(`no server for ${atSign}`);
  const { client } = await AtClient.onboard(atSign, s.cramSecret, { ...netOf(stack), keysFile: keysFileOf(stack, atSign) });
  return client;
}

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
