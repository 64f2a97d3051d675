import { describe, expect, test } from "bun:test";
import { type GcPacing, newGcPacer, newGcStats } from "./gc_pacer.ts";

const pacing: GcPacing = { activityPerCollection: 1000, activityPerConnection: 100, minIntervalMs: 200, maxTimeShare: 0.02 };

/** A pacer on a hand-driven clock; each collection takes `collectMs` of it. */
function driven(collectMs = 1) {
  let now = 0;
  const stats = newGcStats();
  const pacer = newGcPacer(pacing, () => (now += collectMs), () => now, stats);
  return { pacer, stats, advance: (ms: number) => (now += ms) };
}

describe("newGcPacer", () => {
  test("collects only after enough activity: bytes forwarded or connections handled", () => {
    const { pacer, stats, advance } = driven();
    advance(1_000);
    expect(pacer.check(0, 0)).toBe(false);
    expect(pacer.check(999, 0)).toBe(false);
    expect(pacer.check(1000, 0)).toBe(true);
    advance(1_000);
    expect(pacer.check(1000, 9)).toBe(false); // 900 of activity since the last collection
    expect(pacer.check(1000, 10)).toBe(true);
    expect(stats).toEqual({ collections: 2, collectMs: 2 });
  });

  test("an idle relay never collects, however long it runs", () => {
    const { pacer, stats, advance } = driven();
    for (let i = 0; i < 100; i++) {
      advance(200);
      pacer.check(500, 0);
    }
    expect(stats.collections).toBe(0);
  });

  test("at most one collection per minIntervalMs under constant load", () => {
    const { pacer, stats, advance } = driven();
    let bytes = 0;
    for (let t = 0; t < 2_000; t += 10) {
      advance(10);
      pacer.check((bytes += 10_000), 0);
    }
    expect(stats.collections).toBeGreaterThanOrEqual(9);
    expect(stats.collections).toBeLessThanOrEqual(10);
  });

  test("slow collections push the next one out so collecting stays under maxTimeShare", () => {
    const { pacer, stats, advance } = driven(50); // 50 ms each: at 2 %, one per 2.5 s at most
    let bytes = 0;
    for (let t = 0; t < 10_000; t += 10) {
      advance(10);
      pacer.check((bytes += 10_000), 0);
    }
    expect(stats.collections).toBeLessThanOrEqual(5);
    expect(stats.collectMs / (10_000 + stats.collectMs)).toBeLessThanOrEqual(0.025);
  });
});
