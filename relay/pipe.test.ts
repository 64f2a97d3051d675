/**
 * The accounting of relay/pipe.ts, driven by sockets whose writes take as many bytes as the test says (the
 * socket behaviour itself — partial writes, drain, half-close — is exercised over real TCP in index.test.ts).
 */
import { describe, expect, test } from "bun:test";
import { type PipeContext, type PipeSocket, linkPipe, newPipeEnd, newPipeStats, pipeData, pipeDiscard, pipeDrain } from "./pipe.ts";

const READ_BUFFER_BYTES = 64 * 1024;

/** A socket whose next writes accept `accept` bytes each (Infinity: everything). */
function socket(): PipeSocket & { accept: number; paused: boolean } {
  return {
    data: { pipe: newPipeEnd(1024 * 1024) },
    accept: Infinity,
    paused: false,
    write(d: Uint8Array) {
      return Math.min(d.byteLength, this.accept);
    },
    pause() {
      this.paused = true;
    },
    resume() {
      this.paused = false;
    },
    shutdown() {},
  };
}

function context(totalQueueLimitBytes: number): PipeContext {
  return {
    stats: newPipeStats(),
    nowMs: () => 0,
    queueLimitBytes: 1024 * 1024,
    totalQueueLimitBytes,
    bytesPerPairLimit: Number.MAX_SAFE_INTEGER,
    linked: new Set(),
    throttling: false,
    scratch: [],
    releaseBuffers: true,
    closePair() {},
  };
}

function pair(ctx: PipeContext) {
  const a = socket();
  const b = socket();
  linkPipe(ctx, a, b, { bytes: 0, lastActiveMs: 0 });
  return { a, b };
}

/** A fresh read buffer, as Bun hands one to each `data` event. */
const read = () => new Uint8Array(READ_BUFFER_BYTES);

describe("queued memory", () => {
  test("a 1-byte tail counts as the whole buffer it keeps alive, until it is written", () => {
    const ctx = context(Number.MAX_SAFE_INTEGER);
    const { a, b } = pair(ctx);
    b.accept = READ_BUFFER_BYTES - 1;
    const chunk = read();
    pipeData(ctx, a, chunk);
    expect(b.data.pipe.out.bytes).toBe(1);
    expect(ctx.stats.queuedBytes).toBe(READ_BUFFER_BYTES);
    expect(a.paused).toBe(true);
    b.accept = Infinity;
    pipeDrain(ctx, b);
    expect(ctx.stats.queuedBytes).toBe(0);
    expect(ctx.stats.queuedBytesHighWater).toBe(READ_BUFFER_BYTES);
    expect(a.paused).toBe(false);
    expect(chunk.buffer.detached).toBe(true); // written: back to the allocator at once
  });

  test("small tails of many streams stop every stream's reading once their buffers pass the total budget", () => {
    const ctx = context(3 * READ_BUFFER_BYTES);
    const pairs = Array.from({ length: 5 }, () => pair(ctx));
    for (const { a, b } of pairs.slice(0, 4)) {
      b.accept = READ_BUFFER_BYTES - 10;
      pipeData(ctx, a, read());
    }
    // 40 bytes unsent, but 4 read buffers held: over budget, so all pairs stop reading, the idle one too.
    expect(ctx.throttling).toBe(true);
    expect(pairs[4]!.a.paused && pairs[4]!.b.paused).toBe(true);
    for (const { b } of pairs.slice(0, 4)) {
      b.accept = Infinity;
      pipeDrain(ctx, b);
    }
    expect(ctx.throttling).toBe(false);
    expect(pairs.every(({ a, b }) => !a.paused && !b.paused)).toBe(true);
  });

  test("a pair discarded while all are throttled releases the others", () => {
    const ctx = context(READ_BUFFER_BYTES);
    const stuck = pair(ctx);
    const other = pair(ctx);
    stuck.b.accept = 1;
    pipeData(ctx, stuck.a, read());
    pipeData(ctx, stuck.a, read()); // a data event already read before the pause took effect
    expect(ctx.throttling).toBe(true);
    expect(other.a.paused).toBe(true);
    pipeDiscard(ctx, stuck.b);
    pipeDiscard(ctx, stuck.a);
    expect(ctx.stats.queuedBytes).toBe(0);
    expect(ctx.throttling).toBe(false);
    expect(other.a.paused || other.b.paused).toBe(false);
  });
});
