/**
 * What the tunnel-path API tests share: a real relay in front of a stack, and routes for large bodies
 * (a streamed checksum of the request body, a fixed download).
 */
import { Hono } from "hono";
import type { AtApiEnv } from "../../client/api/serve/index.ts";
import { startRelay, type RelayHandle } from "../../relay/index.ts";
import { cachedResolver, directoryResolver } from "../../relay/public_key_resolver.ts";
import type { Stack } from "../harness.ts";

/** A relay on loopback that checks legs against the stack's directory. */
export function startRelayFor(stack: Stack): Promise<RelayHandle> {
  const directory = { host: stack.directory.host, port: stack.directory.port };
  return startRelay({ relayAtSign: "@relay", host: "127.0.0.1", port: 0, resolvePublicKey: cachedResolver(directoryResolver({ ...directory, ca: [stack.ca] })) });
}

/** sha256 hex of some bytes. */
export function sha256(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

/**
 * `POST /sha`: the request body's sha256 and length, read as it streams, and the caller; `GET /download`:
 * `download`; `POST /echo`: the body back once all of it arrived.
 */
export function bigBodyApp(download: Uint8Array): Hono<AtApiEnv> {
  return new Hono<AtApiEnv>()
    .get("/hello", (c) => c.json({ hello: c.get("atSign") }))
    .post("/sha", async (c) => {
      const h = new Bun.CryptoHasher("sha256");
      let n = 0;
      for await (const chunk of c.req.raw.body ?? []) {
        h.update(chunk);
        n += chunk.byteLength;
      }
      return c.json({ sha: h.digest("hex") as string, bytes: n, caller: c.get("atSign") });
    })
    .get("/download", (c) => c.body(download as Uint8Array<ArrayBuffer>))
    .post("/echo", async (c) => c.body(await c.req.arrayBuffer()));
}
