/**
 * `--relay @relay | HOST:PORT[,HOST:PORT…]`: addresses as given, or the ones the relay's @sign publishes as the
 * public (signed) value `public:relay.inlay@<relay>` = `host:port[,host:port…]` (relay.ts --keys --public-host
 * [--fleet] writes it). Several addresses are a fleet: relays of one @sign, of which a tunnel picks the fastest.
 */
import { parseHostPort } from "../../core/host_port.ts";
import { normalizeAtSign } from "../../core/atsign.ts";
import { UsageError } from "../../core/options.ts";
import type { AtClient } from "../at_client.ts";

/** Where the relay is. */
export interface RelayAddress {
  host: string;
  port: number;
  /** When given, a relay announcing another @sign is refused. */
  atSign?: string;
}

/** The public key name under which a relay publishes its address(es). */
export const RELAY_ADDRESS_KEY = "relay.inlay";
/** Most addresses one relay @sign publishes (each is probed by both ends of every new session). */
export const RELAY_FLEET_MAX = 16;

/** `host:port,host:port` (IPv6 hosts in brackets), the published form. */
export function formatRelayAddresses(list: { host: string; port: number }[]): string {
  return list.map((a) => `${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}`).join(",");
}

/** Parses the published form; null when any entry is not HOST:PORT or there are more than RELAY_FLEET_MAX. */
export function parseRelayAddresses(text: string): { host: string; port: number }[] | null {
  const parts = text.split(",");
  if (parts.length > RELAY_FLEET_MAX) return null;
  const list = parts.map((p) => parseHostPort(p));
  return list.every((a) => a !== null) ? dedupe(list as { host: string; port: number }[]) : null;
}

/**
 * Resolves `--relay` to the fleet (one address or more).
 * @example await resolveRelays(client, "@relay") // [{ host: "relay.example", port: 6466, atSign: "@relay" }]
 */
export async function resolveRelays(client: AtClient, text: string): Promise<RelayAddress[]> {
  if (!text.startsWith("@")) {
    const list = parseRelayAddresses(text);
    if (!list) throw new UsageError(`Invalid --relay "${text}": expected @RELAY or HOST:PORT[,HOST:PORT…] (at most ${RELAY_FLEET_MAX})`);
    return list;
  }
  const atSign = normalizeAtSign(text);
  const r = await client.get(`public:${RELAY_ADDRESS_KEY}${atSign}`);
  const value = typeof r.value === "string" ? r.value : "";
  const list = parseRelayAddresses(value);
  if (!list) throw new UsageError(`${atSign} publishes "${value.slice(0, 60)}" as its relay address, not HOST:PORT[,HOST:PORT…]`);
  return list.map((a) => ({ ...a, atSign }));
}

function dedupe(list: { host: string; port: number }[]): { host: string; port: number }[] {
  const seen = new Set<string>();
  return list.filter((a) => {
    const k = `${a.host}:${a.port}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}
