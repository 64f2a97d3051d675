/**
 * `HOST:PORT` as flags, directory records and control messages carry it: `name:port`, `1.2.3.4:port` or
 * `[v6]:port`. One parser, so a flag, a published relay address and a tunnel target are read the same way.
 */

/** A host (brackets of an IPv6 literal removed) and a port. */
export interface HostPort {
  host: string;
  port: number;
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

/**
 * Parses `text`, or returns null when it is not HOST:PORT with a port in 1..65535 (0 too with `allowPortZero`,
 * for listen addresses where 0 picks a free port).
 * @example parseHostPort("[::1]:6464") // { host: "::1", port: 6464 }
 */
export function parseHostPort(text: string, opts: { allowPortZero?: boolean } = {}): HostPort | null {
  const m = HOST_PORT.exec(text.trim());
  if (!m) return null;
  const port = Number(m[2]);
  if (port > 65535 || (port === 0 && !opts.allowPortZero)) return null;
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
}

/** Like parseHostPort, but throws a RangeError that names `what` (e.g. "--directory"). */
export function requireHostPort(text: string, what: string, opts: { allowPortZero?: boolean } = {}): HostPort {
  const hp = parseHostPort(text, opts);
  if (!hp) throw new RangeError(`Invalid ${what} "${text}": expected HOST:PORT`);
  return hp;
}
