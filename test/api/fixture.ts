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

/** Path of the CLI entry the tests run as a child process. */
export const CLIENT_ENTRY = new URL("../../client.ts", import.meta.url).pathname;

/**
 * Starts `bun client.ts gateway --listen 127.0.0.1:0 ...args` and waits (20 s at most) for its listening line;
 * resolves with the process and the base URL it printed. The caller kills the process.
 */
export async function startGateway(args: string[], env: Record<string, string>): Promise<{ proc: Bun.Subprocess<"ignore", "pipe", "pipe">; base: string }> {
  const proc = Bun.spawn([process.execPath, CLIENT_ENTRY, "gateway", "--listen", "127.0.0.1:0", ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env });
  let err = "";
  const decoder = new TextDecoder();
  const reader = proc.stderr.getReader();
  const deadline = Date.now() + 20_000;
  try {
    while (!/listening on (http:\/\/\S+)/.test(err)) {
      if (Date.now() > deadline) throw new Error(`gateway did not start: ${err}`);
      const { done, value } = await reader.read();
      if (done) throw new Error(`gateway exited: ${err}`);
      err += decoder.decode(value, { stream: true });
    }
  } catch (e) {
    proc.kill();
    throw e;
  } finally {
    reader.releaseLock();
  }
  return { proc, base: /listening on (http:\/\/\S+)/.exec(err)![1]! };
}
