/**
 * The tunnel path of APIs served by @sign, end to end through real atServers and a real relay: large uploads
 * and downloads (checksummed), a streaming response read piece by piece, the verified caller reaching the
 * handler, the same refusals as the notification path, and bounded memory when the caller stops reading.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { encodeCapability, mintCapability } from "../../client/api/capability/index.ts";
import { ApiCaller, atFetch, AtFetchError, serveApi, type ServedApi } from "../../client/api/serve/index.ts";
import type { AtClient } from "../../client/index.ts";
import type { RelayHandle } from "../../relay/index.ts";
import { startStack, type Stack } from "../harness.ts";
import { netOf, onboarded } from "./fixture.ts";
import { bigBodyApp, sha256, startRelayFor } from "./tunnel_fixture.ts";

const MIB = 1024 * 1024;
const BIG_BYTES = 8 * MIB;
/** Bytes the endless route offers: far more than any buffer on the way. */
const ENDLESS_BYTES = 512 * MIB;
/** What the API side may have produced for a caller that read one chunk (kernel, relay and stream buffers). */
const STALLED_PRODUCED_MAX_BYTES = 48 * MIB;

let stack: Stack;
let relay: RelayHandle;
let clients: Map<string, AtClient>;
let served: ServedApi;
let callers: Map<string, ApiCaller>;
const rootKey = crypto.getRandomValues(new Uint8Array(32));
const download = crypto.getRandomValues(new Uint8Array(BIG_BYTES));
/** Ticks of the incremental route: the handler produces tick n+1 only once the test read tick n. */
const ticks: { next: (() => void) | null } = { next: null };
let endlessProduced = 0;
/** The slow-upload route reads one chunk, then waits for this before reading the rest. */
const uploadGate: { open: (() => void) | null } = { open: null };

function app() {
  return bigBodyApp(download)
    .get("/ticks", () => {
      let n = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(ctl) {
          if (n > 0) await new Promise<void>((r) => (ticks.next = r));
          if (n === 5) return ctl.close();
          ctl.enqueue(new TextEncoder().encode(`tick ${n++}\n`));
        },
      });
      return new Response(body, { headers: { "content-type": "text/plain" } });
    })
    .get("/slow", async (c) => {
      await Bun.sleep(Number(c.req.query("ms") ?? "0"));
      return c.text("late");
    })
    .post("/slow-upload", async (c) => {
      const reader = c.req.raw.body!.getReader();
      let n = (await reader.read()).value?.byteLength ?? 0;
      await new Promise<void>((r) => (uploadGate.open = r));
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        n += value.byteLength;
      }
      return c.json({ bytes: n });
    })
    .get("/endless", () => {
      endlessProduced = 0;
      const body = new ReadableStream<Uint8Array>(
        {
          pull(ctl) {
            if (endlessProduced >= ENDLESS_BYTES) return ctl.close();
            endlessProduced += 64 * 1024;
            ctl.enqueue(new Uint8Array(64 * 1024));
          },
        },
        { highWaterMark: 0 },
      );
      return new Response(body);
    });
}

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@api", "@bob", "@carol", "@eve"] });
  clients = new Map();
  for (const a of ["@api", "@bob", "@carol", "@eve"]) clients.set(a, await onboarded(stack, a));
  relay = await startRelayFor(stack);
  served = await serveApi(app(), { client: clients.get("@api")!, allow: ["@bob"], block: ["@eve"], capabilityRootKey: rootKey });
  callers = new Map();
  for (const a of ["@bob", "@carol", "@eve"]) callers.set(a, await ApiCaller.open(clients.get(a)!, { timeoutMs: 20_000, relay: `127.0.0.1:${relay.port}` }));
}, 60_000);

afterAll(async () => {
  for (const c of callers?.values() ?? []) await c.close();
  await served?.close();
  for (const c of clients?.values() ?? []) c.close();
  await relay?.stop();
  await stack?.stop();
});

test("an 8 MiB upload goes over the tunnel (picked by size) and arrives whole; the handler sees the verified @sign", async () => {
  const body = crypto.getRandomValues(new Uint8Array(BIG_BYTES));
  const t0 = performance.now();
  const res = await callers.get("@bob")!.fetch("@api", "/sha", { method: "POST", body, headers: { "x-inlay-caller": "@mallory" } });
  const got = (await res.json()) as { sha: string; bytes: number; caller: string };
  const ms = performance.now() - t0;
  expect(res.status).toBe(200);
  expect(got).toEqual({ sha: sha256(body), bytes: BIG_BYTES, caller: "@bob" });
  console.log(`upload ${BIG_BYTES / MIB} MiB over the tunnel: ${ms.toFixed(0)} ms, ${(BIG_BYTES / MIB / (ms / 1000)).toFixed(1)} MiB/s (first call includes session set-up)`);
}, 60_000);

test("an 8 MiB download comes back whole (one-off atFetch with a relay, tunnel asked for)", async () => {
  const t0 = performance.now();
  const res = await atFetch("@api", "/download", {}, { as: "@bob", ...netOf(stack), keysFile: `${stack.home}/keys/@bob_key.atKeys`, relay: `127.0.0.1:${relay.port}`, tunnel: true });
  expect(res.status).toBe(200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const ms = performance.now() - t0;
  expect(bytes.byteLength).toBe(BIG_BYTES);
  expect(sha256(bytes)).toBe(sha256(download));
  console.log(`download ${BIG_BYTES / MIB} MiB, one-off atFetch (two logins + session set-up included): ${ms.toFixed(0)} ms`);

  const t1 = performance.now();
  const again = await callers.get("@bob")!.fetch("@api", "/download", {}, { tunnel: true });
  const b2 = new Uint8Array(await again.arrayBuffer());
  const ms2 = performance.now() - t1;
  expect(sha256(b2)).toBe(sha256(download));
  console.log(`download ${BIG_BYTES / MIB} MiB in a live session: ${ms2.toFixed(0)} ms, ${(BIG_BYTES / MIB / (ms2 / 1000)).toFixed(1)} MiB/s`);
}, 60_000);

test("8 MiB echoed by an app that reads the whole body first, several times in one session", async () => {
  const body = crypto.getRandomValues(new Uint8Array(BIG_BYTES));
  for (let i = 0; i < 3; i++) {
    const res = await callers.get("@bob")!.fetch("@api", "/echo", { method: "POST", body });
    expect(res.status).toBe(200);
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(body));
  }
}, 60_000);

test("an app that answers without reading a large body: the caller gets the answer, the stream ends", async () => {
  const body = new ReadableStream<Uint8Array>({
    pull: (c) => c.enqueue(new Uint8Array(64 * 1024)), // endless: only the API's answer ends this call
  });
  const res = await callers.get("@bob")!.fetch("@api", "/hello", { method: "POST", body });
  expect(res.status).toBe(404); // POST /hello is not a route: answered at once, body unread
  await res.arrayBuffer();
  const deadline = Date.now() + 10_000;
  while (served.stats().tunnelStreams > 0 && Date.now() < deadline) await Bun.sleep(20);
  expect(served.stats().tunnelStreams).toBe(0);
}, 30_000);

test("a GET whose answer is too large for a notification is asked again over the tunnel", async () => {
  const res = await callers.get("@bob")!.fetch("@api", "/download");
  expect(res.status).toBe(200);
  expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(download));
}, 30_000);

test("a stream request body is sent as it is produced", async () => {
  let sent = 0;
  const parts = 32;
  const h = new Bun.CryptoHasher("sha256");
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent === parts) return c.close();
      const chunk = crypto.getRandomValues(new Uint8Array(64 * 1024));
      h.update(chunk);
      sent++;
      c.enqueue(chunk);
    },
  });
  const res = await callers.get("@bob")!.fetch("@api", "/sha", { method: "POST", body });
  expect(await res.json()).toEqual({ sha: h.digest("hex"), bytes: parts * 64 * 1024, caller: "@bob" });
}, 30_000);

test("a streaming response is read piece by piece (the next piece is made only after the last was read)", async () => {
  const res = await callers.get("@bob")!.fetch("@api", "/ticks", {}, { tunnel: true });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const seen: string[] = [];
  let text = "";
  while (seen.length < 5) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
    const lines = text.split("\n");
    text = lines.pop()!;
    for (const l of lines) {
      seen.push(l);
      ticks.next?.(); // only now may the handler make the next one
      ticks.next = null;
    }
  }
  expect(seen).toEqual(["tick 0", "tick 1", "tick 2", "tick 3", "tick 4"]);
  expect((await reader.read()).done).toBe(true);
}, 30_000);

test("the verified @sign reaches the handler over the tunnel", async () => {
  const res = await callers.get("@bob")!.fetch("@api", "/hello", { headers: { "x-caller": "@mallory" } }, { tunnel: true });
  expect(await res.json()).toEqual({ hello: "@bob" });
});

test("a blocked caller and an expired capability are refused on the tunnel path too", async () => {
  const eveToken = encodeCapability(mintCapability(rootKey, { atSign: "@eve" }));
  const blocked = await callers.get("@eve")!.fetch("@api", "/hello", {}, { tunnel: true, capability: eveToken });
  expect(blocked.status).toBe(403);
  expect(await blocked.json()).toMatchObject({ error: "blocked" });

  const expired = encodeCapability(mintCapability(rootKey, { atSign: "@carol", expires: Date.now() - 1 }));
  const res = await callers.get("@carol")!.fetch("@api", "/sha", { method: "POST", body: new Uint8Array(300_000) }, { capability: expired });
  expect(res.status).toBe(403);
  expect(await res.json()).toMatchObject({ error: "expired" });

  const none = await callers.get("@carol")!.fetch("@api", "/hello", {}, { tunnel: true });
  expect(none.status).toBe(401);
  const valid = encodeCapability(mintCapability(rootKey, { atSign: "@carol", pathPrefix: "/hello" }));
  const ok = await callers.get("@carol")!.fetch("@api", "/hello", {}, { tunnel: true, capability: valid });
  expect(await ok.json()).toEqual({ hello: "@carol" });
}, 30_000);

test("an app that stops reading the request stalls the caller's upload instead of making either side buffer", async () => {
  let produced = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (produced >= ENDLESS_BYTES) return c.close();
        produced += 64 * 1024;
        c.enqueue(new Uint8Array(64 * 1024));
      },
    },
    { highWaterMark: 0 },
  );
  const answer = callers.get("@bob")!.fetch("@api", "/slow-upload", { method: "POST", body });
  const deadline = Date.now() + 20_000;
  let last = -1;
  let steady = 0;
  while (steady < 3 && Date.now() < deadline) {
    await Bun.sleep(200);
    steady = produced === last ? steady + 1 : 0;
    last = produced;
  }
  expect(steady).toBe(3);
  expect(produced).toBeLessThan(STALLED_PRODUCED_MAX_BYTES);
  expect(served.stats().tunnelQueuedBytes).toBeLessThan(8 * MIB);
  console.log(`stalled app: caller produced ${(produced / MIB).toFixed(1)} MiB of ${ENDLESS_BYTES / MIB}, API tunnel queues ${(served.stats().tunnelQueuedBytes / 1024).toFixed(0)} KiB`);
  uploadGate.open!();
  const res = await answer;
  expect(await res.json()).toEqual({ bytes: ENDLESS_BYTES });
}, 60_000);

test("no answer in time, and no API serving: precise AtFetchErrors on the tunnel path", async () => {
  const late = await callers.get("@bob")!.fetch("@api", "/slow?ms=3000", {}, { tunnel: true, timeoutMs: 300 }).catch((e: unknown) => e);
  expect(late).toBeInstanceOf(AtFetchError);
  expect((late as AtFetchError).reason).toBe("timeout");
  // @carol serves nothing: no daemon answers the tunnel request.
  const none = await callers.get("@bob")!.fetch("@carol", "/hello", {}, { tunnel: true, timeoutMs: 1_500 }).catch((e: unknown) => e);
  expect(none).toBeInstanceOf(AtFetchError);
  expect((none as AtFetchError).reason).toBe("no_answer");
  expect((none as AtFetchError).message).toContain("@carol");
}, 30_000);

test("a caller that stops reading stalls the API's response instead of making it buffer", async () => {
  const res = await callers.get("@bob")!.fetch("@api", "/endless", {}, { tunnel: true });
  const reader = res.body!.getReader();
  expect((await reader.read()).done).toBe(false);
  // Wait until production stops (the chain of buffers is full), polling with a deadline.
  const deadline = Date.now() + 20_000;
  let last = -1;
  let steady = 0;
  while (steady < 3 && Date.now() < deadline) {
    await Bun.sleep(200);
    steady = endlessProduced === last ? steady + 1 : 0;
    last = endlessProduced;
  }
  expect(steady).toBe(3);
  expect(endlessProduced).toBeLessThan(STALLED_PRODUCED_MAX_BYTES);
  expect(served.stats().tunnelQueuedBytes).toBeLessThan(8 * MIB);
  console.log(`stalled caller: API produced ${(endlessProduced / MIB).toFixed(1)} MiB of ${ENDLESS_BYTES / MIB}, tunnel queues ${(served.stats().tunnelQueuedBytes / 1024).toFixed(0)} KiB`);
  await reader.cancel();
  const gone = Date.now() + 10_000;
  while (served.stats().tunnelStreams > 0 && Date.now() < gone) await Bun.sleep(50);
  expect(served.stats().tunnelStreams).toBe(0);
}, 60_000);
