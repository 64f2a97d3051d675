/**
 * Shared pieces of the notification tests: owner clients over raw TLS, reading monitor lines.
 */
import type { Stack } from "../harness.ts";
import { cramAuth } from "../server_fixture.ts";
import { connectWire, type WireClient } from "../wire_client.ts";

/** An owner-authenticated raw client of `atSign`'s server in `stack`. */
export async function ownerClient(stack: Stack, atSign: string): Promise<WireClient> {
  const s = stack.servers.get(atSign);
  if (!s) throw new Error(`no server for ${atSign}`);
  const c = await connectWire(s.port, stack.ca);
  const r = await cramAuth(c, atSign, s.cramSecret);
  if (r !== "data:success") throw new Error(`cram failed: ${r}`);
  return c;
}

/** The notification JSON objects in everything a monitor connection received (stats notifications left out). */
export function notificationsIn(received: string, withStats = false): any[] {
  const out: any[] = [];
  for (const line of received.split("\n")) {
    const i = line.indexOf("notification: ");
    if (i === -1) continue;
    const n = JSON.parse(line.slice(i + "notification: ".length));
    if (withStats || n.id !== "-1") out.push(n);
  }
  return out;
}

/** Starts monitoring on `c` (no answer line comes back). */
export function startMonitor(c: WireClient, args = ""): void {
  c.raw(`monitor${args}\n`);
}

/** Resolves once `c` received `n` notifications (stats excluded). */
export async function untilNotifications(c: WireClient, n: number, timeoutMs = 20_000): Promise<any[]> {
  const all = await c.until((r) => notificationsIn(r).length >= n, timeoutMs);
  return notificationsIn(all);
}

/** Polls `f` until it returns true or the deadline passes. */
export async function eventually(f: () => Promise<boolean> | boolean, timeoutMs = 20_000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await f()) return;
    if (Date.now() > deadline) throw new Error("condition not met before the deadline");
    await Bun.sleep(stepMs);
  }
}
