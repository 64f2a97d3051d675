/**
 * `notify` (issue 4): end-to-end notification latency @alice client → @alice server → @bob server → @bob
 * monitor, p50/p99, and sustained notifications/s with none lost. A directory and both servers run as child
 * processes of their entries. Until the SDK has notify/monitor this drives the wire directly: the sender is the
 * SDK's connection (pipelined, CRAM), the receiver a raw monitor connection; values are encrypted and decrypted
 * with the atSDK suite (AES-256-CTR, fresh IV) as the SDK does, with a shared key agreed beforehand.
 */
import { AtConnection } from "../../client/connection/at_connection.ts";
import { cramAuthenticate } from "../../client/auth/authenticate.ts";
import { atSdkSuite } from "../../core/crypto/index.ts";
import type { BenchContext } from "../context.ts";
import { openMonitor, type MonitorNotification } from "../monitor_client.ts";
import type { Scenario } from "../scenario.ts";
import { startDirectoryChild, startServerChild } from "../services.ts";

const ALICE = "@benchalice";
const BOB = "@benchbob";
/** Plaintext of every notification: a typical small app message. */
const MESSAGE = new TextEncoder().encode(JSON.stringify({ text: "hello from the bench", n: 0 }));
/** How long the burst's notifications may take to arrive (full run, --quick). */
const BURST_ARRIVAL_TIMEOUT_MS = [60_000, 15_000] as const;

interface Sent {
  resolve(): void;
}

/** The `notify` scenario. */
export const notifyScenario: Scenario = {
  name: "notify",
  description: "notification latency client → server → server → monitor (encrypted), p50/p99, sustained notifications/s",
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
    const [alice, bob] = await Promise.all([startServerChild(ctx, home, ALICE, aliceSecret, directory), startServerChild(ctx, home, BOB, bobSecret, directory)]);
    const sharedKey = atSdkSuite.generateSymmetricKey();

    const inFlight = new Map<string, Sent>();
    let undecryptable = 0;
    const refusals: string[] = [];
    const monitor = await openMonitor(bob, BOB, bobSecret, (n: MonitorNotification) => {
      const sent = inFlight.get(n.id);
      if (!sent) return; // stats notifications and anything not ours
      inFlight.delete(n.id);
      try {
        atSdkSuite.decrypt(sharedKey, { ciphertext: n.value ?? "", nonce: n.metadata?.ivNonce ?? undefined });
      } catch {
        undecryptable++;
      }
      sent.resolve();
    });
    ctx.defer(() => monitor.close());
    const sender = await AtConnection.open({ host: alice.host, port: alice.port, ca: alice.ca });
    ctx.defer(() => sender.close());
    await cramAuthenticate(sender, ALICE, aliceSecret);

    /** Encrypts, sends and resolves when bob's monitor has it; rejects when the server refuses it. */
    const notify = (i: number): Promise<void> => {
      const id = crypto.randomUUID();
      const sealed = atSdkSuite.encrypt(sharedKey, MESSAGE);
      const arrived = new Promise<void>((resolve) => inFlight.set(id, { resolve }));
      const line = `notify:id:${id}:update:messageType:key:notifier:SYSTEM:ivNonce:${sealed.nonce}:@${BOB.slice(1)}:m${i}.bench${ALICE}:${sealed.ciphertext}`;
      return sender.request(line).then((r) => {
        if (r.ok) return arrived;
        inFlight.delete(id);
        refusals.push(`${r.code} ${r.description}`);
        throw new Error(`notify refused: ${r.code} ${r.description}`);
      });
    };

    // Latency: one notification at a time, so each measures the path, not a queue.
    ctx.progress("latency, one notification at a time");
    await ctx.loop({ ms: ctx.pick(2_000, 300), count: 200 }, notify); // warm-up (connections between the servers, JIT)
    const latency = ctx.latency();
    const measured = ctx.pick(10_000, 300);
    const seq = await ctx.loop({ ms: ctx.pick(60_000, 10_000), count: measured }, async (i) => {
      const t = Bun.nanoseconds();
      await notify(i);
      latency.recordSince(t);
    });
    const h = latency.summary();
    ctx.metric({ id: "notify_p50", label: `end-to-end latency p50 (${seq.count} notifications, one at a time)`, value: h.p50, unit: "µs", histogram: h });
    ctx.metric({ id: "notify_p99", label: "end-to-end latency p99", value: h.p99, unit: "µs" });

    // Sustained rate: a burst sent pipelined, timed until the last one reached the monitor.
    const burst = ctx.pick(10_000, 1_000);
    ctx.progress(`burst of ${burst} notifications`);
    const arrivalTimeoutMs = ctx.pick(...BURST_ARRIVAL_TIMEOUT_MS);
    const t0 = performance.now();
    const arrivals: Promise<void>[] = [];
    await ctx.loopConcurrent(32, { ms: arrivalTimeoutMs, count: burst }, async (_w, i) => {
      const sent = notify(i);
      arrivals.push(sent);
      await sender.request("noop:0"); // keeps the pipeline bounded without waiting for delivery
    });
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), arrivalTimeoutMs).unref());
    const done = await Promise.race([Promise.allSettled(arrivals).then(() => "done" as const), timeout]);
    const seconds = (performance.now() - t0) / 1000;
    const lost = inFlight.size;
    const delivered = burst - lost;
    const until = done === "done" ? "until the last arrived" : `${delivered} arrived within ${arrivalTimeoutMs / 1000} s`;
    ctx.metric({ id: "notify_rate", label: `sustained notifications/s (burst of ${burst}, ${until})`, value: delivered / seconds, unit: "notifications/s" });
    ctx.metric({ id: "notify_lost", label: `notifications not delivered within ${arrivalTimeoutMs / 1000} s`, value: lost, unit: "notifications" });
    const gone = monitor.closedReason();
    if (gone) ctx.note(`${BOB}'s monitor connection was closed: ${gone}`);
    const lostId = [...inFlight.keys()][0];
    if (lostId) {
      const status = await sender.request(`notify:status:${lostId}`);
      ctx.note(`a lost notification's status on ${ALICE}'s server: ${status.ok ? status.data : `${status.code} ${status.description}`}`);
    }
    if (undecryptable) ctx.note(`${undecryptable} notifications did not decrypt`);
    if (refusals.length) ctx.note(`${refusals.length} notifications refused by ${ALICE}'s server, first: ${refusals[0]}`);
  },
};
