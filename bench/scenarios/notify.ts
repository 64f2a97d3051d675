/**
 * `notify` (issue 4): end-to-end notification latency @alice client → @alice server → @bob server → @bob
 * monitor (encryption included), p50/p99 over 10,000 messages, and sustained notifications/s with none lost.
 * Needs the SDK's notify and monitor; until they exist the scenario says so.
 */
import { loadPart } from "../load_part.ts";
import { NotAvailable, type Scenario } from "../scenario.ts";

interface AtClientClass {
  prototype: Record<string, unknown>;
}

export const notifyScenario: Scenario = {
  name: "notify",
  description: "notification latency client → server → server → monitor, p50/p99, sustained notifications/s",
  targets: [
    { metric: "notify_p50", op: "<=", value: 1_000, unit: "µs", source: "issue 4" },
    { metric: "notify_p99", op: "<=", value: 5_000, unit: "µs", source: "issue 4" },
    { metric: "notify_rate", op: ">=", value: 5_000, unit: "notifications/s", source: "issue 4" },
  ],
  async run() {
    const AtClient = await loadPart<AtClientClass>("client/index.ts", "AtClient");
    const missing = ["notify", "monitor"].filter((m) => typeof AtClient.prototype[m] !== "function");
    if (missing.length) throw new NotAvailable(`AtClient has no ${missing.join(" or ")} yet (issue 4)`);
    throw new NotAvailable("AtClient.notify and monitor exist but the scenario is not wired yet");
  },
};
