import { expect, test } from "bun:test";
import { CPU_WAIT_MAX_MS, chargeCpu, cpuWaitMs, newCpuShare } from "./cpu_share.ts";

const limits = { share: 0.25, burstMs: 100 };

test("a connection runs its burst, then waits until its share has paid for what it used", () => {
  const b = newCpuShare(limits, 0);
  chargeCpu(b, limits, 100, 0);
  expect(cpuWaitMs(b, limits, 0)).toBe(0);
  chargeCpu(b, limits, 50, 0);
  expect(cpuWaitMs(b, limits, 0)).toBe(200);
  expect(cpuWaitMs(b, limits, 200)).toBe(0);
  // Refills stop at the burst.
  expect(cpuWaitMs(b, limits, 1_000_000)).toBe(0);
  expect(b.tokensMs).toBe(100);
});

test("the wait after one enormous command is bounded", () => {
  const b = newCpuShare(limits, 0);
  chargeCpu(b, limits, 3_600_000, 0);
  expect(cpuWaitMs(b, limits, 0)).toBe(CPU_WAIT_MAX_MS);
});
