/**
 * The network an address belongs to, for budgets that one host must not escape by changing its last bits: an
 * attacker on one IPv4 /24 or one IPv6 /64 usually controls all of it (a /64 is the smallest IPv6 allocation).
 * IPv4-mapped IPv6 (`::ffff:1.2.3.4`, as dual-stack sockets report IPv4 peers) counts as the IPv4 address.
 */
import { ipVersion } from "./ip_version.ts";

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** The address without an IPv4-mapped prefix, lower-cased: one spelling per peer. */
export function canonicalAddress(address: string): string {
  const mapped = MAPPED_V4.exec(address);
  return mapped ? mapped[1]! : address.toLowerCase();
}

/**
 * `a.b.c.0/24` for IPv4, the first four groups and `::/64` for IPv6, and the text itself for anything else (a
 * host name or an empty address), so unknown forms still get a budget of their own.
 * @example networkPrefix("10.1.2.3") === "10.1.2.0/24"; networkPrefix("2001:db8:1:2::7") === "2001:db8:1:2::/64"
 */
export function networkPrefix(address: string): string {
  const a = canonicalAddress(address);
  const version = ipVersion(a);
  if (version === 4) return `${a.slice(0, a.lastIndexOf("."))}.0/24`;
  if (version === 6) return `${ipv6Groups(a).slice(0, 4).join(":")}::/64`;
  return a;
}

/** The eight groups of an IPv6 address, `::` expanded, leading zeros dropped (so every spelling agrees). */
function ipv6Groups(address: string): string[] {
  // The URL parser writes the canonical RFC 5952 form, with any embedded IPv4 tail turned into two groups.
  const host = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const [head = "", tail] = host.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right];
}
