import { describe, expect, test } from "bun:test";
import { fromProbeResult, planRelays, probeResult, usedRelayText } from "./relay_choice.ts";

const r = (port: number) => ({ host: "10.0.0.1", port, atSign: "@relay" });
const ms = (n: number) => ({ ms: n, draining: false });

describe("planRelays", () => {
  test("lowest combined round trip first: both ends count, not the requester's alone", () => {
    // The requester is closest to 1, the device to 3; 2 is the best middle (like NoPorts' US/AP → EU example).
    const p = planRelays([
      { relay: r(1), mine: ms(5), device: ms(200) },
      { relay: r(2), mine: ms(60), device: ms(70) },
      { relay: r(3), mine: ms(190), device: ms(10) },
    ]);
    expect(p.order.map((x) => x.port)).toEqual([2, 3, 1]);
    expect(p.combinedMs).toEqual([130, 200, 205]);
  });

  test("draining is skipped, unreachable goes last, ties keep the published order", () => {
    const p = planRelays([
      { relay: r(1), mine: { down: "cannot connect" }, device: ms(1) },
      { relay: r(2), mine: ms(4), device: { ms: 0, draining: true } },
      { relay: r(3), mine: ms(4), device: ms(4) },
      { relay: r(4), mine: ms(4), device: ms(4) },
      { relay: r(5), mine: ms(1), device: { down: "the device cannot reach it" } },
    ]);
    expect(p.order.map((x) => x.port)).toEqual([3, 4, 1, 5]);
    expect(p.combinedMs).toEqual([8, 8, null, null]);
    expect(p.skipped).toEqual([{ relay: r(2), reason: "draining" }]);
  });

  test("without the device's figures the requester's decide", () => {
    const p = planRelays([
      { relay: r(1), mine: ms(9), device: null },
      { relay: r(2), mine: ms(3), device: null },
    ]);
    expect(p.order.map((x) => x.port)).toEqual([2, 1]);
  });

  test("every relay draining leaves nothing to try", () => {
    expect(planRelays([{ relay: r(1), mine: { ms: 1, draining: true }, device: null }]).order).toEqual([]);
  });

  test("the control channel form round-trips", () => {
    for (const p of [ms(1.25), { ms: 3, draining: true }, { down: "x" }] as const) {
      const back = fromProbeResult(probeResult(p));
      expect("down" in back).toBe("down" in p);
      if ("draining" in p) expect(back).toMatchObject({ draining: p.draining });
    }
  });

  test("the CLI line names the relay, how it was chosen and what failed", () => {
    const text = usedRelayText({ relay: r(2), how: "fastest", combinedMs: 1.234, deviceMeasured: true, failed: [{ relay: r(1), reason: "closed" }], skipped: [{ relay: r(3), reason: "draining" }] });
    expect(text).toBe("@relay 10.0.0.1:2 (fastest, 1.2 ms both ends; after 10.0.0.1:1 failed; skipped 10.0.0.1:3 (draining))");
    expect(usedRelayText({ relay: r(2), how: "only", combinedMs: null, deviceMeasured: false, failed: [], skipped: [] })).toBe("@relay 10.0.0.1:2");
  });
});
