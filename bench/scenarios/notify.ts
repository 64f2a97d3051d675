/**
 * `notify` (issue 4): end-to-end notification latency @alice client → @alice server → @bob server → @bob
 * monitor through the SDK, encryption and decryption included: `AtClient.notify` seals the value for @bob
 * (shared key, fresh IV) and `AtClient.monitor` yields it decrypted. p50/p99 one at a time, then the sustained
 * rate of a pipelined burst with nothing lost. A directory and both servers run as child processes of their
 * entries; both clients live in the bench process.
 */
import { join } from "node:path";
import { AtClient, type ConnectOptions } from "../../client/index.ts";
import { devCaPath } from "../../core/crypto/dev_ca.ts";
import type { Scenario } from "../scenario.ts";
import { startDirectoryChild, startServerChild } from "../services.ts";

const ALICE = "@benchalice";
const BOB = "@benchbob";
/** Plaintext of every notification: a typical small app message. */
const MESSAGE = JSON.stringify({ text: "hello from the bench", n: 0 });
/** How long the burst's notifications may take to arrive (full run, --quick). */
const BURST_ARRIVAL_TIMEOUT_MS = [60_000, 15_000] as const;
/** Notify requests in flight during the burst (the SDK pipelines them on one connection). */
const BURST_IN_FLIGHT = 64;

/** The `notify` scenario. */
export const notifyScenario: Scenario = {
  name: "notify",
  description: "notification latency SDK client → server → server → SDK monitor (encrypted), p50/p99, sustained notifications/s",
  targets: [
    { metric: "notify_p50", op: "<=", value: 1_000, unit: "µs", source: "issue 4" },
    { metric: "notify_p99", op: "<=", value: 5_000, unit: "µs", source: "issue 4" },
    { metric: "notify_rate", op: ">=", value: 5_000, unit: "notifications/s", source: "issue 4" },
    { metric: "notify_lost", op: "<=", value: 0, unit: "notifications", source: "issue 4" },
  ],
  async run(ctx) {
    const home = ctx.tempDir();
    ctx.progress("starting a directory and two atServers");
    const directory = await startDirectoryChild(ctx, home);
    const [aliceSecret, bobSecret] = [crypto.randomUUID(), crypto.randomUUID()];
    await Promise.all([startServerChild(ctx, home, ALICE, aliceSecret, directory), startServerChild(ctx, home, BOB, bobSecret, directory)]);
    const net: ConnectOptions = { directory: `${directory.host}:${directory.port}`, caFile: devCaPath(home), home };
    ctx.progress("onboarding both @signs with the SDK");
    const [alice, bob] = await Promise.all(
      [
        [ALICE, aliceSecret],
        [BOB, bobSecret],
      ].map(async ([atSign, secret]) => (await AtClient.onboard(atSign!, secret!, { ...net, keysFile: join(home, `${atSign}.atKeys`) })).client),
    );
    ctx.defer(() => alice!.close());
    ctx.defer(() => bob!.close());

    const inFlight = new Map<string, () => void>();
    let wrongValues = 0;
    const monitor = bob!.monitor({ regex: "\\.bench@", onStatus: (s, d) => s !== "connected" && ctx.note(`${BOB}'s monitor: ${s}${d ? ` (${d})` : ""}`) });
    ctx.defer(() => monitor.close());
    await monitor.ready;
    const consumer = (async () => {
      for await (const n of monitor) {
        const arrived = inFlight.get(n.id);
        if (!arrived) continue; // e.g. the notification of the shared key record alice's first notify made
        if (n.value !== MESSAGE) wrongValues++;
        inFlight.delete(n.id);
        arrived();
      }
    })();

    /** Seals and sends one notification; `arrived` resolves when bob's monitor yielded it decrypted. */
    const notify = (i: number): { sent: Promise<string>; arrived: Promise<void> } => {
      const id = crypto.randomUUID();
      const arrived = new Promise<void>((resolve) => inFlight.set(id, resolve));
      const sent = alice!.notify(BOB, `m${i % 1000}.bench`, MESSAGE, { id });
      sent.catch(() => inFlight.delete(id));
      return { sent, arrived };
    };
    const roundTrip = async (i: number) => {
      const r = notify(i);
      await Promise.all([r.sent, r.arrived]);
    };

    // Latency: one notification at a time, so each measures the path, not a queue.
    ctx.progress("latency, one notification at a time");
    await ctx.loop({ ms: ctx.pick(2_000, 300), count: 200 }, roundTrip); // warm-up (shared key, s2s connection, JIT)
    const latency = ctx.latency();
    const measured = ctx.pick(10_000, 300);
    const seq = await ctx.loop({ ms: ctx.pick(60_000, 10_000), count: measured }, async (i) => {
      const t = Bun.nanoseconds();
      await roundTrip(i);
      latency.recordSince(t);
    });
    const h = latency.summary();
    ctx.metric({ id: "notify_p50", label: `end-to-end latency p50 (${seq.count} notifications, one at a time)`, value: h.p50, unit: "µs", histogram: h });
    ctx.metric({ id: "notify_p99", label: "end-to-end latency p99", value: h.p99, unit: "µs" });

    // Sustained rate: a burst sent pipelined, timed until the last one was yielded by the monitor.
    const burst = ctx.pick(10_000, 1_000);
    ctx.progress(`burst of ${burst} notifications`);
    const arrivalTimeoutMs = ctx.pick(...BURST_ARRIVAL_TIMEOUT_MS);
    const t0 = performance.now();
    const arrivals: Promise<void>[] = [];
    let refused = 0;
    await ctx.loopConcurrent(BURST_IN_FLIGHT, { ms: arrivalTimeoutMs, count: burst }, async (_w, i) => {
      const r = notify(i);
      arrivals.push(r.arrived);
      await r.sent.catch(() => refused++);
    });
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), arrivalTimeoutMs).unref());
    const done = await Promise.race([Promise.all(arrivals).then(() => "done" as const), timeout]);
    const seconds = (performance.now() - t0) / 1000;
    const lost = inFlight.size;
    const delivered = arrivals.length - lost;
    const until = done === "done" ? "until the last arrived" : `${delivered} arrived within ${arrivalTimeoutMs / 1000} s`;
    ctx.metric({ id: "notify_rate", label: `sustained notifications/s (burst of ${arrivals.length}, ${BURST_IN_FLIGHT} in flight, ${until})`, value: delivered / seconds, unit: "notifications/s" });
    ctx.metric({ id: "notify_lost", label: `notifications not delivered within ${arrivalTimeoutMs / 1000} s`, value: lost, unit: "notifications" });
    const lostId = [...inFlight.keys()][0];
    if (lostId) ctx.note(`a lost notification's status on ${ALICE}'s server: ${await alice!.notifyStatus(lostId).catch((e: Error) => e.message)}`);
    if (wrongValues) ctx.note(`${wrongValues} notifications did not decrypt to the value sent`);
    if (refused) ctx.note(`${refused} notifications refused by ${ALICE}'s server`);
    monitor.close();
  },
};
