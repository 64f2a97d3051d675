/**
 * First-party caveats of an API capability, one condition per caveat, written `key = value` (the
 * libmacaroons convention, so the token reads well in any macaroon inspector):
 *
 *   atsign = @bob,@carol      the caller must be one of these @signs
 *   path_prefix = /v1         the path must be this prefix or below it (segment-wise: /v1 does not cover /v10)
 *   methods = GET,POST        the HTTP method must be one of these
 *   expires = 1767225600000   refused from this instant on (unix ms)
 *   max_calls = 100           at most this many calls by tokens carrying this caveat
 *   rpm = 60                  at most this many calls per minute by tokens carrying this caveat
 *
 * A token may carry a key several times (the holder narrowed it); every occurrence must hold.
 */
import { normalizeAtSign } from "../../../core/atsign.ts";

/** What a capability grants; every field narrows it, absent fields do not restrict. */
export interface CapabilityCaveats {
  /** Caller @sign(s) allowed. */
  atSign?: string | string[];
  /** Path prefix, starting with "/". */
  pathPrefix?: string;
  /** HTTP methods allowed. */
  methods?: string[];
  /** Expiry instant, unix milliseconds. */
  expires?: number;
  /** Total call budget. */
  maxCalls?: number;
  /** Calls per minute. */
  rpm?: number;
}

/** The caveat keys as written in conditions. */
export const CaveatKey = {
  atSign: "atsign",
  pathPrefix: "path_prefix",
  methods: "methods",
  expires: "expires",
  maxCalls: "max_calls",
  rpm: "rpm",
} as const;
export type CaveatKey = (typeof CaveatKey)[keyof typeof CaveatKey];

const KEYS = new Set<string>(Object.values(CaveatKey));
const METHOD_RE = /^[A-Z]{1,16}$/;
const PATH_PREFIX_RE = /^\/[\x21-\x7e]*$/;

/** One parsed condition. */
export interface ParsedCaveat {
  key: CaveatKey;
  value: string;
}

/**
 * Parses `key = value`; returns a reason string for text that is not a capability caveat.
 * @example parseCaveat("methods = GET,POST") // { key: "methods", value: "GET,POST" }
 */
export function parseCaveat(condition: string): ParsedCaveat | string {
  const m = /^\s*([a-z_]+)\s*=\s*(.*?)\s*$/.exec(condition);
  if (!m) return `"${condition}" is not of the form key = value`;
  if (!KEYS.has(m[1]!)) return `unknown caveat "${m[1]}"`;
  return { key: m[1] as CaveatKey, value: m[2]! };
}

/**
 * Turns caveats into conditions, validating each. Throws RangeError naming the bad field.
 * @example capabilityConditions({ methods: ["GET"], rpm: 60 }) // ["methods = GET", "rpm = 60"]
 */
export function capabilityConditions(c: CapabilityCaveats): string[] {
  const out: string[] = [];
  if (c.atSign !== undefined) {
    const list = (Array.isArray(c.atSign) ? c.atSign : [c.atSign]).map(normalizeAtSign);
    if (list.length === 0) throw new RangeError("Cannot add caveat atsign: empty list");
    out.push(`${CaveatKey.atSign} = ${list.join(",")}`);
  }
  if (c.pathPrefix !== undefined) {
    if (!PATH_PREFIX_RE.test(c.pathPrefix)) throw new RangeError(`Cannot add caveat path_prefix: "${c.pathPrefix}" must start with "/" and hold no spaces`);
    out.push(`${CaveatKey.pathPrefix} = ${c.pathPrefix}`);
  }
  if (c.methods !== undefined) {
    const list = c.methods.map((m) => m.toUpperCase());
    if (list.length === 0 || !list.every((m) => METHOD_RE.test(m))) throw new RangeError(`Cannot add caveat methods: "${c.methods.join(",")}" is not a list of HTTP methods`);
    out.push(`${CaveatKey.methods} = ${list.join(",")}`);
  }
  for (const [key, v] of [
    [CaveatKey.expires, c.expires],
    [CaveatKey.maxCalls, c.maxCalls],
    [CaveatKey.rpm, c.rpm],
  ] as const) {
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`Cannot add caveat ${key}: ${v} is not a positive integer`);
    out.push(`${key} = ${v}`);
  }
  return out;
}

/** Parses a positive decimal integer caveat value; undefined when malformed. */
export function parsePositiveInt(value: string): number | undefined {
  if (!/^[1-9][0-9]{0,15}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}
