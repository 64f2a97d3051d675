/**
 * `--relay @relay | HOST:PORT`: an address as given, or the one the relay's @sign publishes as the public
 * (signed) value `public:relay.inlay@<relay>` = `host:port` (relay.ts --keys --public-host writes it).
 */
import { parseHostPort } from "../../core/host_port.ts";
import { normalizeAtSign } from "../../core/atsign.ts";
import { UsageError } from "../../core/options.ts";
import type { AtClient } from "../at_client.ts";
import type { RelayAddress } from "./tunnel_client.ts";

/** The public key name under which a relay publishes its address. */
export const RELAY_ADDRESS_KEY = "relay.inlay";


/**
 * Resolves `--relay`.
 * @example await resolveRelay(client, "@relay") // { host: "relay.example", port: 6464, atSign: "@relay" }
 */
export async function resolveRelay(client: AtClient, text: string): Promise<RelayAddress> {
  if (!text.startsWith("@")) {
    const hp = parseHostPort(text);
    if (!hp) throw new UsageError(`Invalid --relay "${text}": expected @RELAY or HOST:PORT`);
    return hp;
  }
  const atSign = normalizeAtSign(text);
  const r = await client.get(`public:${RELAY_ADDRESS_KEY}${atSign}`);
  const value = typeof r.value === "string" ? r.value : "";
  const hp = parseHostPort(value);
  if (!hp) throw new UsageError(`${atSign} publishes "${value.slice(0, 60)}" as its relay address, not HOST:PORT`);
  return { ...hp, atSign };
}
