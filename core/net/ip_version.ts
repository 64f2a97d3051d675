/**
 * Whether a host is an IP literal, like node:net's `isIP` but without loading node:net, which costs a Bun
 * process ~6 MiB RSS (measured on Bun 1.4.5: an idle program importing `isIP` 28.5 MiB, without 22.1 MiB).
 */

const IPV4_OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4_RE = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);

/**
 * 4 for a dotted-quad IPv4 address, 6 for an IPv6 address (without brackets or zone), 0 for anything else.
 * IPv6 is checked by the WHATWG URL parser, which implements the full RFC 4291 text forms.
 * @example ipVersion("127.0.0.1") === 4; ipVersion("::1") === 6; ipVersion("localhost") === 0
 */
export function ipVersion(host: string): 0 | 4 | 6 {
  if (IPV4_RE.test(host)) return 4;
  return host.includes(":") && URL.canParse(`http://[${host}]/`) ? 6 : 0;
}
