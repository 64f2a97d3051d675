/**
 * A hono app reachable only by @sign, end to end through real atServers: the verified caller reaches the
 * handler, allow and block lists, capability tokens (attenuation, expiry, budget, tampering), body bounds,
 * handler timeout, and precise errors when the API cannot be reached.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { attenuateCapability, encodeCapability, mintCapability } from "../../client/api/capability/index.ts";
import { ApiCaller, atFetch, AtFetchError, encodeRequestEnvelope, REQUEST_KEY_SUFFIX, serveApi, type ServedApi } from "../../client/api/serve/index.ts";
import type { AtClient } from "../../client/index.ts";
import { startStack, type Stack } from "../harness.ts";
import { netOf, onboarded, testApp } from "./fixture.ts";

let stack: Stack;
let clients: Map<string, AtClient>;
let served: ServedApi;
let busy: ServedApi;
let callers: Map<string, ApiCaller>;
const rootKey = crypto.getRandomValues(new Uint8Array(32));

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@api", "@busy", "@bob", "@carol", "@eve"] });
  clients = new Map();
  for (const a of ["@api", "@busy", "@bob", "@carol", "@eve"]) clients.set(a, await onboarded(stack, a));
  served = await serveApi(testApp(), { client: clients.get("@api")!, allow: ["@bob"], block: ["@eve"], capabilityRootKey: rootKey, handlerTimeoutMs: 1_000, maxBodyBytes: 32 * 1024 });
  busy = await serveApi(testApp(), { client: clients.get("@busy")!, allow: ["@bob"], block: ["@eve"], blockOnServer: true, maxInFlight: 1 });
  callers = new Map();
  for (const a of ["@bob", "@carol", "@eve"]) callers.set(a, await ApiCaller.open(clients.get(a)!, { timeoutMs: 20_000 }));
}, 60_000);

afterAll(async () => {
  for (const c of callers?.values() ?? []) await c.close();
  await served?.close();
  await busy?.close();
  for (const c of clients?.values() ?? []) c.close();
  await stack?.stop();
});

const call = (as: string, path: string, init?: RequestInit, capability?: string) => callers.get(as)!.fetch("@api", path, init, capability ? { capability } : {});

test("an allowed caller gets the app's answer, and the handler sees its verified @sign", async () => {
  const res = await call("@bob", "/hello");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  expect(await res.json()).toEqual({ hello: "@bob" });
});

test("method, query, headers and a binary body travel both ways", async () => {
  const body = crypto.getRandomValues(new Uint8Array(20_000));
  const res = await call("@bob", "/echo?a=1&b=x%20y", { method: "POST", body, headers: { "content-type": "application/x-test", "x-caller": "@mallory" } });
  expect(res.status).toBe(201);
  expect(res.headers.get("content-type")).toBe("application/x-test");
  expect(res.headers.get("x-query")).toBe("?a=1&b=x%20y");
  expect(res.headers.get("x-caller")).toBe("@bob");
  expect(new Uint8Array(await res.arrayBuffer())).toEqual(body);
  const none = await call("@bob", "/none");
  expect(none.status).toBe(204);
  expect(await none.text()).toBe("");
});

test("a blocked caller is refused even with a valid capability", async () => {
  const token = encodeCapability(mintCapability(rootKey, { atSign: "@eve" }));
  const res = await call("@eve", "/hello", {}, token);
  expect(res.status).toBe(403);
  expect(await res.json()).toMatchObject({ error: "blocked" });
});

test("a caller not on the allow list needs a capability: 401 without one, 401 for garbage", async () => {
  const res = await call("@carol", "/hello");
  expect(res.status).toBe(401);
  expect(await res.json()).toMatchObject({ error: "capability_required" });
  const bad = await call("@carol", "/hello", {}, "not-a-macaroon");
  expect(bad.status).toBe(401);
  expect(await bad.json()).toMatchObject({ error: "malformed_capability" });
});

test("a capability grants its path and methods; an attenuated one is narrower than its parent", async () => {
  const parent = mintCapability(rootKey, { atSign: "@carol", pathPrefix: "/v1", methods: ["GET"] });
  const token = encodeCapability(parent);
  expect((await call("@carol", "/v1/items", {}, token)).status).toBe(200);
  expect((await call("@carol", "/v1/items/public", {}, token)).status).toBe(200);
  const post = await call("@carol", "/v1/items", { method: "POST" }, token);
  expect(post.status).toBe(403);
  expect(await post.json()).toMatchObject({ error: "method_not_allowed" });
  const outside = await call("@carol", "/hello", {}, token);
  expect(outside.status).toBe(403);
  expect(await outside.json()).toMatchObject({ error: "path_not_allowed" });

  const child = encodeCapability(attenuateCapability(parent, { pathPrefix: "/v1/items/public" }));
  expect((await call("@carol", "/v1/items/public", {}, child)).status).toBe(200);
  const narrower = await call("@carol", "/v1/items", {}, child);
  expect(narrower.status).toBe(403);
  expect(await narrower.json()).toMatchObject({ error: "path_not_allowed" });
  // Widening by attenuation does not work: both prefixes must hold.
  const wider = encodeCapability(attenuateCapability(parent, { pathPrefix: "/" }));
  expect((await call("@carol", "/hello", {}, wider)).status).toBe(403);
});

test("a capability for another @sign is refused: the verified caller counts, not the holder", async () => {
  const forBob = encodeCapability(mintCapability(rootKey, { atSign: "@bob" }));
  const res = await call("@carol", "/hello", {}, forBob);
  expect(res.status).toBe(403);
  expect(await res.json()).toMatchObject({ error: "wrong_atsign" });
});

test("an expired capability is refused", async () => {
  const token = encodeCapability(mintCapability(rootKey, { atSign: "@carol", expires: Date.now() - 1 }));
  const res = await call("@carol", "/hello", {}, token);
  expect(res.status).toBe(403);
  expect(await res.json()).toMatchObject({ error: "expired" });
});

test("a call budget runs out", async () => {
  const token = encodeCapability(mintCapability(rootKey, { atSign: "@carol", maxCalls: 2 }));
  expect((await call("@carol", "/hello", {}, token)).status).toBe(200);
  expect((await call("@carol", "/hello", {}, token)).status).toBe(200);
  const third = await call("@carol", "/hello", {}, token);
  expect(third.status).toBe(403);
  expect(await third.json()).toMatchObject({ error: "calls_exhausted" });
});

test("a tampered capability or one minted under another key is refused", async () => {
  const m = mintCapability(rootKey, { atSign: "@carol", pathPrefix: "/v1" });
  const widened = { ...m, caveats: m.caveats.map((c) => ({ ...c, id: new TextEncoder().encode(new TextDecoder().decode(c.id).replace("/v1", "/")) })) };
  const res = await call("@carol", "/hello", {}, encodeCapability(widened));
  expect(res.status).toBe(403);
  expect(await res.json()).toMatchObject({ error: "bad_signature" });
  const foreign = encodeCapability(mintCapability(crypto.getRandomValues(new Uint8Array(32)), { atSign: "@carol" }));
  expect(await (await call("@carol", "/hello", {}, foreign)).json()).toMatchObject({ error: "bad_signature" });
});

test("the capability may come as the x-inlay-capability header", async () => {
  const token = encodeCapability(mintCapability(rootKey, { atSign: "@carol" }));
  expect((await call("@carol", "/hello", { headers: { "x-inlay-capability": token } })).status).toBe(200);
});

test("bodies are bounded: 413 locally above the caller's bound, 413 from the API above its own", async () => {
  const local = await call("@bob", "/echo", { method: "POST", body: new Uint8Array(70_000) });
  expect(local.status).toBe(413);
  expect(await local.json()).toMatchObject({ error: "request_too_large" });
  const remote = await call("@bob", "/echo", { method: "POST", body: new Uint8Array(40_000) });
  expect(remote.status).toBe(413);
  expect(await remote.json()).toMatchObject({ error: "request_too_large" });
  const big = await call("@bob", "/big?n=40000");
  expect(big.status).toBe(502);
  expect(await big.json()).toMatchObject({ error: "response_too_large" });
});

test("a handler slower than the timeout answers 504", async () => {
  const res = await call("@bob", "/slow?ms=3000");
  expect(res.status).toBe(504);
  expect(await res.json()).toMatchObject({ error: "handler_timeout" });
});

test("atFetch opens a caller for one call with `as`", async () => {
  const res = await atFetch("@api", "/hello", {}, { as: "@bob", keysFile: `${stack.home}/keys/@bob_key.atKeys`, ...netOf(stack) });
  expect(await res.json()).toEqual({ hello: "@bob" });
});

test("an @sign that serves nothing: no_answer, naming the cause", async () => {
  const e = await callers.get("@bob")!.fetch("@carol", "/hello", {}, { timeoutMs: 4_000 }).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(AtFetchError);
  expect((e as AtFetchError).reason).toBe("no_answer");
  expect((e as Error).message).toContain("serveApi");
});

test("an @sign the directory does not know: unreachable", async () => {
  const e = await callers.get("@bob")!.fetch("@nobody", "/hello", {}, { timeoutMs: 1_500 }).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(AtFetchError);
  expect((e as AtFetchError).reason).toBe("unreachable");
  expect((e as Error).message).toContain("@nobody");
});

test("the served API counted what it did", () => {
  const s = served.stats();
  expect(s.received).toBeGreaterThan(10);
  expect(s.refused).toBeGreaterThan(5);
  expect(s.inFlight).toBe(0);
});

test("without a capability root key, a caller off the allow list gets 403 not_allowed", async () => {
  const res = await callers.get("@carol")!.fetch("@busy", "/hello");
  expect(res.status).toBe(403);
  expect(await res.json()).toMatchObject({ error: "not_allowed" });
});

test("requests beyond the in-flight bound get 503 busy at once", async () => {
  const bob = callers.get("@bob")!;
  const slow = bob.fetch("@busy", "/slow?ms=2000");
  const deadline = Date.now() + 10_000;
  while (busy.stats().inFlight < 1) {
    if (Date.now() > deadline) throw new Error("the slow request never started");
    await Bun.sleep(10);
  }
  const refused = await bob.fetch("@busy", "/hello");
  expect(refused.status).toBe(503);
  expect(refused.headers.get("retry-after")).toBe("1");
  expect(await refused.json()).toMatchObject({ error: "busy" });
  expect(await (await slow).text()).toBe("late");
  expect((await bob.fetch("@busy", "/hello")).status).toBe(200);
});

test("blockOnServer: the API's atServer refuses the blocked caller's server, nothing reaches the API host", async () => {
  const before = busy.stats().received;
  const e = await callers.get("@eve")!.fetch("@busy", "/hello", {}, { timeoutMs: 3_000 }).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(AtFetchError);
  expect((e as AtFetchError).reason).toBe("unreachable");
  expect((e as Error).message).toContain("could not deliver");
  expect(busy.stats().received).toBe(before);
});

test("a request delivered twice (same request id, two notifications) runs once", async () => {
  const before = served.stats();
  const id = crypto.randomUUID();
  const envelope = encodeRequestEnvelope({ id, method: "GET", path: "/hello", headers: [], body: new Uint8Array(0), deadline: Date.now() + 20_000 });
  const bob = clients.get("@bob")!;
  await bob.notify("@api", `${id}${REQUEST_KEY_SUFFIX}`, envelope, { id });
  await bob.notify("@api", `${id}${REQUEST_KEY_SUFFIX}`, envelope, { id: crypto.randomUUID() });
  const deadline = Date.now() + 20_000;
  while (served.stats().received < before.received + 2) {
    if (Date.now() > deadline) throw new Error("the two requests did not arrive");
    await Bun.sleep(10);
  }
  const after = served.stats();
  expect(after.duplicates).toBe(before.duplicates + 1);
  expect(after.answered).toBeLessThanOrEqual(before.answered + 1);
});
