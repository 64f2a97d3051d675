import { afterAll, expect, test } from "bun:test";
import { dialTcp, measurePairings, measureStreams, pingInterleaved, startEcho, startSink, PING_WARMUP_ROUNDS } from "./loadgen.ts";
import { randomBytes } from "node:crypto";
import { recordCounter, sealedEndpoint, startRecordSink } from "./sealed_endpoint.ts";

const sink = startSink();
const echo = startEcho();
const key = randomBytes(32);
const recordSink = startRecordSink(key);
afterAll(() => {
  sink.stop();
  echo.stop();
  recordSink.stop();
});

test("measureStreams() moves bytes over real sockets and counts them at the receiving end", async () => {
  const before = sink.bytes();
  const r = await measureStreams(() => dialTcp(sink.port), sink.bytes, { conns: 3, ms: 100, warmupMs: 20 });
  expect(r.gbitPerSecond).toBeGreaterThan(0);
  expect(sink.bytes()).toBeGreaterThan(before);
});

test("measureStreams() fails with the dial error and leaves no stream open", async () => {
  let opened = 0;
  const dial = async () => {
    if (++opened === 2) throw new Error("refused on purpose");
    return dialTcp(sink.port);
  };
  await expect(measureStreams(dial, sink.bytes, { conns: 3, ms: 50, warmupMs: 10 })).rejects.toThrow("1 of 3 streams failed to open");
});

test("pingInterleaved() records every round after the warm-up on every path", async () => {
  const recs = await pingInterleaved(
    [
      { name: "a", dial: () => dialTcp(echo.port) },
      { name: "b", dial: () => dialTcp(echo.port) },
    ],
    { rounds: 50, ms: 10_000 },
  );
  expect([...recs.keys()]).toEqual(["a", "b"]);
  for (const rec of recs.values()) expect(rec.count()).toBe(50);
  expect(PING_WARMUP_ROUNDS).toBeGreaterThan(0);
});

test("measurePairings() completes connect, echo, close cycles", async () => {
  const r = await measurePairings(() => dialTcp(echo.port), { workers: 4, ms: 100 });
  expect(r.perSecond).toBeGreaterThan(0);
  expect(r.latency.count()).toBeGreaterThan(0);
});

test("a sealed endpoint delivers plaintext through the record layer, every tag checked by the sink", async () => {
  const before = recordSink.bytes();
  const r = await measureStreams(async () => sealedEndpoint(await dialTcp(recordSink.port), key), recordSink.bytes, { conns: 1, ms: 100, warmupMs: 20 });
  expect(r.gbitPerSecond).toBeGreaterThan(0);
  expect(recordSink.bytes()).toBeGreaterThan(before);
});

test("recordCounter() refuses records sealed with another key", async () => {
  const count = { bytes: 0 };
  const consume = recordCounter(randomBytes(32), count);
  const chunks: Uint8Array[] = [];
  const inner = { write: (b: Uint8Array) => (chunks.push(b.slice()), b.byteLength), end() {}, on: {} };
  sealedEndpoint(inner, key).write(new Uint8Array(100));
  expect(() => consume(chunks[0]!)).toThrow();
  expect(count.bytes).toBe(0);
});
