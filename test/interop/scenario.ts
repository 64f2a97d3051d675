/**
 * One SDK's run of the interop suite: a real stack (directory and atServers, TLS with the dev CA), the SDK's
 * @sign onboarded by its driver, Inlay's client on the other @sign, and the phases of test/interop/steps.ts
 * in order. Inlay-side steps check with Inlay's client what the SDK did, and the other way round.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AtClient, type AtNotification } from "../../client/index.ts";
import { startStack, type Stack } from "../harness.ts";
import { keysFileOf, netOf, onboarded } from "../sdk_fixture.ts";
import { runDriverPhase, type PhaseResult } from "./driver_run.ts";
import type { InstalledSdk } from "./sdks.ts";
import { STEPS, type Outcome, type Phase } from "./steps.ts";

/** The SDK's @sign, its second one (for SDK-to-SDK notifications), and Inlay's. */
export const SDK_ATSIGN = "@sdk";
export const SECOND_SDK_ATSIGN = "@sdktwo";
export const INLAY_ATSIGN = "@inlay";
/** Longest wait for a notification at Inlay's monitor (store-and-forward retries included). */
export const INLAY_MONITOR_WAIT_MS = 30_000;

/** What an SDK's run came to. */
export interface ScenarioResult {
  version?: string;
  steps: Map<string, Outcome>;
  /** Per phase: how the driver ended and its stderr tail, for failure messages. */
  log: string[];
}

interface Run {
  stack: Stack;
  sdk: InstalledSdk;
  home: string;
  result: ScenarioResult;
  context: Record<string, unknown>;
}

function values(): Record<string, string> {
  const tag = crypto.randomUUID().slice(0, 8);
  const v = (what: string) => `${what} ${tag} ✓`;
  return {
    public: v("sdk public"),
    peerPublic: v("inlay public"),
    self: v("sdk self"),
    sharedBySdk: v("sdk shared"),
    unflaggedBySdk: v("sdk shared without isEncrypted"),
    sharedByPeer: v("inlay shared"),
    notifyBySdk: v("sdk notify"),
    notifyByPeer: v("inlay notify"),
    notifySdkToSdk: v("sdk to sdk notify"),
    offlineBySdk: v("sdk offline notify"),
    awayByPeer: v("inlay notify while sdk away"),
  };
}

/** Runs `phase` of the driver and records its steps; the phase's steps it did not print count as failed. */
async function driverPhase(run: Run, phase: Phase, extra: Record<string, unknown> = {}): Promise<PhaseResult> {
  const r = await runDriverPhase(run.sdk, phase, { ...run.context, ...extra }, { home: run.home, caFile: run.stack.caFile });
  run.result.version ??= r.version;
  run.result.log.push(`[${phase}] ${r.exit}${r.stderrTail ? `\n${r.stderrTail}` : ""}`);
  for (const s of STEPS.filter((s) => s.phase === phase)) {
    run.result.steps.set(s.id, r.steps.get(s.id) ?? { status: "fail", detail: `not reported by the driver (${r.exit})` });
  }
  return r;
}

/** Runs one Inlay-side step: the function returns its detail, or throws. */
async function inlayStep(run: Run, id: string, fn: () => Promise<string>): Promise<void> {
  try {
    run.result.steps.set(id, { status: "ok", detail: await fn() });
  } catch (e) {
    run.result.steps.set(id, { status: "fail", detail: (e as Error).message });
  }
}

function expectValue(what: string, got: unknown, want: string): void {
  if (got !== want) throw new Error(`${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
}

/** The first notification at `client`'s monitor (from `since`) whose key contains each part, within the wait. */
async function notificationsAt(client: AtClient, since: number, parts: string[]): Promise<Map<string, AtNotification>> {
  const found = new Map<string, AtNotification>();
  const monitor = client.monitor({ regex: "interop", since });
  const timer = setTimeout(() => monitor.close(), INLAY_MONITOR_WAIT_MS);
  try {
    for await (const n of monitor) {
      const part = parts.find((p) => n.key.includes(p));
      if (part && !found.has(part)) found.set(part, n);
      if (found.size === parts.length) break;
    }
  } finally {
    clearTimeout(timer);
    monitor.close();
  }
  return found;
}

function arrived(found: Map<string, AtNotification>, part: string): AtNotification {
  const n = found.get(part);
  if (!n) throw new Error(`no notification for ${part} within ${INLAY_MONITOR_WAIT_MS} ms`);
  return n;
}

/** Stops the atServer of `atSign` (its data stays). */
async function stopServer(stack: Stack, atSign: string): Promise<void> {
  await stack.servers.get(atSign)!.stop();
  stack.servers.delete(atSign);
}

/** A new Inlay client for my @sign, as a fresh `bun client.ts` run would have (nothing cached). */
function freshInlay(stack: Stack): Promise<AtClient> {
  return AtClient.open({ ...netOf(stack), keysFile: keysFileOf(stack, INLAY_ATSIGN) });
}

async function exercise(run: Run, inlay: AtClient, v: Record<string, string>): Promise<void> {
  await inlay.put("public:card.interop", v.peerPublic!);
  await inlay.put(`${SDK_ATSIGN}:frompeer.interop`, v.sharedByPeer!);
  await inlay.notify(SDK_ATSIGN, "note.interop", v.notifyByPeer!);
  const since = Date.now() - 1;
  await driverPhase(run, "exercise");
  await inlayStep(run, "public_read_by_inlay", async () => {
    expectValue("value", (await inlay.get(`public:card.interop${SDK_ATSIGN}`)).value, v.public!);
    return "AtClient.get verified the dataSignature with the SDK's public key";
  });
  let sharedIv: unknown;
  await inlayStep(run, "shared_put_sdk_read_by_inlay", async () => {
    const got = await inlay.get(`forpeer.interop${SDK_ATSIGN}`);
    sharedIv = got.meta.ivNonce;
    expectValue("value", got.value, v.sharedBySdk!);
    return "lookup through Inlay's server, decrypted with the SDK's shared key";
  });
  await inlayStep(run, "shared_put_unflagged_read_by_inlay", async () => {
    expectValue("value", (await inlay.get(`unflagged.interop${SDK_ATSIGN}`)).value, v.unflaggedBySdk!);
    return "decrypted with the shared key although the record is not marked isEncrypted";
  });
  const found = await notificationsAt(inlay, since, [`note.interop${SDK_ATSIGN}`, `forpeer.interop${SDK_ATSIGN}`]);
  await inlayStep(run, "notify_received_by_inlay_monitor", async () => {
    const n = arrived(found, `note.interop${SDK_ATSIGN}`);
    expectValue("decrypted value", n.value, v.notifyBySdk!);
    return "AtMonitor decrypted it";
  });
  await inlayStep(run, "shared_write_sdk_notifies_inlay_monitor", async () => {
    const n = arrived(found, `forpeer.interop${SDK_ATSIGN}`);
    expectValue(`value (isEncrypted ${n.isEncrypted}${n.decryptError ? `, ${n.decryptError}` : ""})`, n.value, v.sharedBySdk!);
    return "the automatic notification carried the value, decrypted by AtMonitor";
  });
  await inlayStep(run, "sdk_fresh_iv", async () => {
    const noteIv = found.get(`note.interop${SDK_ATSIGN}`)?.metadata?.ivNonce;
    for (const [what, iv] of [["shared value", sharedIv], ["notification", noteIv]] as const) {
      if (typeof iv !== "string" || /^A+=*$/.test(iv)) throw new Error(`the SDK's ${what} has ivNonce ${JSON.stringify(iv)}`);
    }
    if (sharedIv === noteIv) throw new Error("the SDK used the same ivNonce twice");
    return "two different non-zero ivNonces";
  });
}

async function storeAndForward(run: Run, v: Record<string, string>): Promise<void> {
  const { stack } = run;
  await stopServer(stack, INLAY_ATSIGN);
  const since = Date.now() - 1;
  await driverPhase(run, "offline_send");
  await stack.addServer(INLAY_ATSIGN);
  const inlay = await freshInlay(stack);
  try {
    await inlayStep(run, "shared_put_unflagged_read_by_inlay", async () => {
    expectValue("value", (await inlay.get(`unflagged.interop${SDK_ATSIGN}`)).value, v.unflaggedBySdk!);
    return "decrypted with the shared key although the record is not marked isEncrypted";
  });
  const found = await notificationsAt(inlay, since, [`offline.interop${SDK_ATSIGN}`]);
    await inlayStep(run, "store_forward_to_inlay_monitor", async () => {
      expectValue("decrypted value", arrived(found, `offline.interop${SDK_ATSIGN}`).value, v.offlineBySdk!);
      return "queued by the SDK's atServer, delivered to the new address from the directory";
    });
  } finally {
    inlay.close();
  }
  await stopServer(stack, SDK_ATSIGN);
  const sender = await freshInlay(stack);
  try {
    await inlayStep(run, "inlay_notify_while_sdk_down", async () => `queued as ${await sender.notify(SDK_ATSIGN, "away.interop", v.awayByPeer!)}`);
  } finally {
    sender.close();
  }
  await stack.addServer(SDK_ATSIGN);
  const sent = run.result.steps.get("inlay_notify_while_sdk_down")!;
  if (sent.status !== "ok") {
    run.result.steps.set("receive_after_sdk_server_down", { status: "fail", detail: `nothing to receive: ${sent.detail}` });
    return;
  }
  // The sender's queue retries with a growing pause: as long a wait as Inlay's monitor gets.
  await driverPhase(run, "offline_receive", { monitorWaitSeconds: INLAY_MONITOR_WAIT_MS / 1000 });
}

/** What a driver needs to onboard `atSign`: which @sign, its CRAM secret, where the directory must say it is. */
function onboarding(stack: Stack, atSign: string): Record<string, string> {
  const s = stack.servers.get(atSign)!;
  return { atSign, cramSecret: s.cramSecret, expectAddress: `${s.host}:${s.port}` };
}

/** Runs every step of `sdk` against a new stack. */
export async function runScenario(sdk: InstalledSdk): Promise<ScenarioResult> {
  const stack = await startStack({ atSigns: [SDK_ATSIGN, SECOND_SDK_ATSIGN, INLAY_ATSIGN] });
  const home = mkdtempSync(join(tmpdir(), "inlay-interop-home-"));
  const v = values();
  const result: ScenarioResult = { steps: new Map(), log: [] };
  const run: Run = {
    stack,
    sdk,
    home,
    result,
    context: { atSign: SDK_ATSIGN, peer: INLAY_ATSIGN, second: SECOND_SDK_ATSIGN, root: `${stack.directory.host}:${stack.directory.port}`, values: v },
  };
  const inlay = await onboarded(stack, INLAY_ATSIGN);
  try {
    await driverPhase(run, "onboard", onboarding(stack, SDK_ATSIGN));
    if (result.steps.get("pkam_auth")?.status !== "ok") return result;
    await driverPhase(run, "onboard_second", onboarding(stack, SECOND_SDK_ATSIGN));
    await exercise(run, inlay, v);
    await driverPhase(run, "receive_second", { atSign: SECOND_SDK_ATSIGN });
    inlay.close();
    await storeAndForward(run, v);
    return result;
  } finally {
    inlay.close();
    await stack.stop();
    rmSync(home, { recursive: true, force: true });
  }
}
