/**
 * `--permit HOST:PORT` rules of the daemon: which targets a tunnel may reach. A rule is `host:port` where either
 * part may be `*`; IPv6 hosts are bracketed (`[::1]:22`). Host names compare case-insensitively and literally
 * (no resolution: `localhost:22` does not permit `127.0.0.1:22`).
 */

/** One parsed rule. */
export interface Permit {
  host: string | "*";
  port: number | "*";
}

/** Parses `host:port`; throws RangeError naming the problem. */
export function parsePermit(text: string): Permit {
  const i = text.lastIndexOf(":");
  if (i <= 0) throw new RangeError(`Cannot parse permit "${text}": expected HOST:PORT (either may be *)`);
  const host = text.slice(0, i).replace(/^\[|\]$/g, "").toLowerCase();
  const portText = text.slice(i + 1);
  if (portText === "*") return { host, port: "*" };
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`Cannot parse permit "${text}": port must be 1-65535 or *`);
  return { host, port };
}


/** True when some rule permits `target`. */
export function isPermitted(permits: Permit[], target: { host: string; port: number }): boolean {
  const host = target.host.toLowerCase();
  return permits.some((p) => (p.host === "*" || p.host === host) && (p.port === "*" || p.port === target.port));
}

/** The rule as text (for pong answers and refusal reasons). */
export function permitText(p: Permit): string {
  const host = p.host.includes(":") ? `[${p.host}]` : p.host;
  return `${host}:${p.port}`;
}
