/**
 * Which relay of a fleet a new tunnel session uses. Both ends probe every relay (core/relay/probe_relay.ts) — the
 * requester itself, the device when asked over the control channel (`probe` → `probed`) — and the order to try is
 * the lowest sum of the two round trips first, as both legs of every stream cross the relay. A relay that either
 * end finds draining is not tried; one that either end cannot reach goes last (a probe can be wrong, e.g. an
 * older relay that does not answer probes). A device that gives no figures (older daemon, no answer in time)
 * leaves the requester's own figures to decide.
 */
import { type RelayProbe, probeRelay } from "../../core/relay/probe_relay.ts";
import { formatRelayAddresses } from "./relay_address.ts";
import type { RelayAddress, UsedRelay } from "./tunnel_client.ts";

/** One relay's figures: the requester's probe, and the device's (null when the device gave none). */
export interface RelayMeasurement {
  relay: RelayAddress;
  mine: RelayProbe;
  device: RelayProbe | null;
}

/** The order to try the fleet in, and why each relay is where it is. */
export interface RelayPlan {
  /** Relays to try, best first. */
  order: RelayAddress[];
  /** Per relay of `order` (same index): the combined round trip in ms, or null when it is only a last resort. */
  combinedMs: (number | null)[];
  /** Relays not tried, with the reason. */
  skipped: { relay: RelayAddress; reason: string }[];
  measurements: RelayMeasurement[];
}

/** What a device reports for the relay at the same index of the request: ms, or why not. */
export type DeviceProbeResult = number | "draining" | "down";

/** The requester's probe in the control channel's form (what the daemon sends back). */
export function probeResult(p: RelayProbe): DeviceProbeResult {
  return "down" in p ? "down" : p.draining ? "draining" : Math.round(p.ms * 1000) / 1000;
}

/** The device's wire figure back as a probe. */
export function fromProbeResult(r: DeviceProbeResult): RelayProbe {
  return r === "down" ? { down: "the device cannot reach it" } : r === "draining" ? { ms: 0, draining: true } : { ms: r, draining: false };
}

/**
 * Orders `measurements` (pure; the tests feed it figures).
 * @example planRelays([{ relay: a, mine: { ms: 3, draining: false }, device: { ms: 9, draining: false } }, …]).order
 */
export function planRelays(measurements: RelayMeasurement[]): RelayPlan {
  const ranked: { relay: RelayAddress; ms: number }[] = [];
  const lastResort: RelayAddress[] = [];
  const skipped: RelayPlan["skipped"] = [];
  for (const m of measurements) {
    const probes = [m.mine, ...(m.device ? [m.device] : [])];
    if (probes.some((p) => "draining" in p && p.draining)) skipped.push({ relay: m.relay, reason: "draining" });
    else if (probes.some((p) => "down" in p)) lastResort.push(m.relay);
    else ranked.push({ relay: m.relay, ms: probes.reduce((n, p) => n + ("ms" in p ? p.ms : 0), 0) });
  }
  // Array.prototype.sort is stable: equal figures keep the published order.
  ranked.sort((x, y) => x.ms - y.ms);
  return {
    order: [...ranked.map((r) => r.relay), ...lastResort],
    combinedMs: [...ranked.map((r) => r.ms), ...lastResort.map(() => null)],
    skipped,
    measurements,
  };
}

/**
 * Probes the fleet from here while `askDevice` gets the device's figures (null: none), then plans.
 * @example const plan = await measureRelays(relays, (list) => askDeviceToProbe(list));
 */
export async function measureRelays(relays: RelayAddress[], askDevice: (relays: RelayAddress[]) => Promise<DeviceProbeResult[] | null>): Promise<RelayPlan> {
  const [mine, device] = await Promise.all([Promise.all(relays.map((r) => probeRelay(r))), askDevice(relays).catch(() => null)]);
  const usable = device && device.length === relays.length ? device : null;
  return planRelays(relays.map((relay, i) => ({ relay, mine: mine[i]!, device: usable ? fromProbeResult(usable[i]!) : null })));
}

/** `host:port` of a relay, for logs, the CLI line and control messages. */
export function relayText(r: RelayAddress): string {
  return formatRelayAddresses([r]);
}

/**
 * The CLI's account of a session's relay: `@relay 10.0.0.2:6466 (fastest of 3, 1.2 ms; after 10.0.0.1:6466 failed)`.
 * @example usedRelayText(tunnel.relay())
 */
export function usedRelayText(u: UsedRelay | null): string {
  if (!u) return "no relay (no session)";
  const notes: string[] = [];
  if (u.how !== "only") notes.push(`${u.how}${u.combinedMs !== null ? `, ${u.combinedMs.toFixed(1)} ms ${u.deviceMeasured ? "both ends" : "this end only"}` : ""}`);
  if (u.failed.length) notes.push(`after ${u.failed.map((f) => `${relayText(f.relay)} failed`).join(", ")}`);
  if (u.skipped.length) notes.push(`skipped ${u.skipped.map((f) => `${relayText(f.relay)} (${f.reason})`).join(", ")}`);
  return `${u.relay.atSign ? `${u.relay.atSign} ` : ""}${relayText(u.relay)}${notes.length ? ` (${notes.join("; ")})` : ""}`;
}
