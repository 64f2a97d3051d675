/**
 * L402 caveats in Aperture's `condition=value` form, so tokens and attenuations interoperate with it:
 *
 *   services=<name>:<tier>[,<name>:<tier>...]   services (and tier) the token may be used for
 *   <name>_valid_until=<unix seconds>           refused from that second on
 *   <name>_capabilities=<a>,<b>                 capabilities of the service allowed
 *   <name>_max_calls=<n>                        call budget (ours; 1 = single use)
 *
 * Several occurrences of a condition may appear (each attenuation adds one); every one must hold.
 */

/** Condition naming the services (and tiers) a token is for. */
export const SERVICES = "services";
/** `<service>_valid_until`: expiry in unix seconds. */
export const VALID_UNTIL_SUFFIX = "_valid_until";
/** `<service>_capabilities`: comma-separated capabilities allowed. */
export const CAPABILITIES_SUFFIX = "_capabilities";
/** `<service>_max_calls`: call budget. */
export const MAX_CALLS_SUFFIX = "_max_calls";

/** Splits `condition=value` at the first `=`; undefined when there is none. */
export function splitCaveat(text: string): { condition: string; value: string } | undefined {
  const at = text.indexOf("=");
  return at <= 0 ? undefined : { condition: text.slice(0, at), value: text.slice(at + 1) };
}

/** Parses a services value (`name:tier,...`); undefined when malformed. */
export function parseServices(value: string): Map<string, number> | undefined {
  const out = new Map<string, number>();
  for (const part of value.split(",")) {
    const m = /^([A-Za-z0-9_.-]+):([0-9]{1,9})$/.exec(part.trim());
    if (!m) return undefined;
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** The caveats of a freshly minted token. */
export function mintCaveats(service: string, tier: number, validUntilMs: number, maxCalls: number | undefined, capabilities: string[] | undefined): string[] {
  const out = [`${SERVICES}=${service}:${tier}`, `${service}${VALID_UNTIL_SUFFIX}=${Math.floor(validUntilMs / 1000)}`];
  if (capabilities?.length) out.push(`${service}${CAPABILITIES_SUFFIX}=${capabilities.join(",")}`);
  if (maxCalls !== undefined) out.push(`${service}${MAX_CALLS_SUFFIX}=${maxCalls}`);
  return out;
}
