import { verifyMacaroon, type Macaroon } from "../../../core/macaroon/index.ts";
import { atSignProblem, normalizeAtSign } from "../../../core/atsign.ts";
import { CaveatKey, parseCaveat, parsePositiveInt } from "./capability_caveats.ts";
import type { CallCounters, CounterUse } from "./call_counters.ts";

/** The request a capability is checked against. */
export interface CapabilityRequest {
  /** Verified caller @sign, or undefined for an anonymous caller. */
  atSign: string | undefined;
  /** URL path (no query). */
  path: string;
  method: string;
}

/** Why a capability was refused; stable tags for callers to map to HTTP/AT errors. */
export type CapabilityRefusal =
  | "bad_signature" // forged, tampered, or minted under another key
  | "unsupported_caveat" // third-party caveat or non-text condition: we verify with no call home
  | "unknown_caveat" // a condition this verifier does not know (refused: it might narrow the grant)
  | "malformed_caveat" // a known key with a value that does not parse
  | "wrong_atsign"
  | "bad_path" // dot segments or encoded separators: refuse rather than guess how the router resolves them
  | "path_not_allowed"
  | "method_not_allowed"
  | "expired"
  | "calls_exhausted"
  | "rate_limited"
  | "counter_store_full";

/** Outcome of `checkCapability`. */
export type CapabilityResult = { ok: true } | { ok: false; reason: CapabilityRefusal; detail: string };

/**
 * Checks a capability for one request, with no call home: verifies the macaroon under `rootKey`, then
 * every caveat against `request` and `now`, and finally counts the call against the token's budgets in
 * `counters` (only when everything else holds, all budgets or none).
 *
 * @example
 * ```ts
 * const r = checkCapability(token, { atSign: "@bob", path: "/v1/items", method: "GET" }, Date.now(), counters, rootKey);
 * if (!r.ok) return c.json({ error: r.reason, detail: r.detail }, 403);
 * ```
 */
export function checkCapability(
  token: Macaroon,
  request: CapabilityRequest,
  now: number,
  counters: CallCounters,
  rootKey: Uint8Array,
): CapabilityResult {
  let refusal: { reason: CapabilityRefusal; detail: string } | undefined;
  const refuse = (reason: CapabilityRefusal, detail: string) => ((refusal = { reason, detail }), detail);
  const caller = request.atSign && !atSignProblem(request.atSign) ? normalizeAtSign(request.atSign) : undefined;
  const pathProblem = badPath(request.path);
  const method = request.method.toUpperCase();
  const rateUses: Omit<CounterUse, "expiresAt">[] = [];
  let expiresAt = Infinity;

  const v = verifyMacaroon(token, rootKey, (condition, ctx) => {
    const c = parseCaveat(condition);
    if (typeof c === "string") return refuse(c.startsWith("unknown") ? "unknown_caveat" : "malformed_caveat", c);
    switch (c.key) {
      case CaveatKey.atSign: {
        const allowed = c.value.split(",").map((s) => s.trim().toLowerCase());
        if (!caller || !allowed.includes(caller)) return refuse("wrong_atsign", `caller ${caller ?? "(anonymous)"} is not ${c.value}`);
        return null;
      }
      case CaveatKey.pathPrefix: {
        if (pathProblem) return refuse("bad_path", pathProblem);
        const p = c.value;
        const under = request.path === p || request.path.startsWith(p.endsWith("/") ? p : p + "/");
        return under ? null : refuse("path_not_allowed", `${request.path} is not under ${p}`);
      }
      case CaveatKey.methods:
        return c.value.split(",").map((s) => s.trim().toUpperCase()).includes(method) ? null : refuse("method_not_allowed", `${method} is not in ${c.value}`);
      case CaveatKey.expires: {
        const at = parsePositiveInt(c.value);
        if (at === undefined) return refuse("malformed_caveat", `expires "${c.value}" is not a unix-ms instant`);
        expiresAt = Math.min(expiresAt, at);
        return now < at ? null : refuse("expired", `expired at ${new Date(at).toISOString()}`);
      }
      case CaveatKey.maxCalls:
      case CaveatKey.rpm: {
        const limit = parsePositiveInt(c.value);
        if (limit === undefined) return refuse("malformed_caveat", `${c.key} "${c.value}" is not a positive integer`);
        rateUses.push({ kind: c.key === CaveatKey.maxCalls ? "calls" : "rate", key: ctx.chainKey.toHex(), limit });
        return null;
      }
    }
  });
  if (!v.ok) {
    if (refusal) return { ok: false, ...refusal };
    if (v.reason === "signature_mismatch") return { ok: false, reason: "bad_signature", detail: v.detail };
    return { ok: false, reason: "unsupported_caveat", detail: v.detail };
  }
  const counted = counters.take(
    rateUses.map((u) => ({ ...u, expiresAt })),
    now,
  );
  return counted ? { ok: false, ...counted } : { ok: true };
}

/** Why `path` cannot be matched against a prefix safely, or undefined. */
function badPath(path: string): string | undefined {
  if (!path.startsWith("/")) return `path "${path}" does not start with /`;
  if (/%2f|%5c|%2e|\\/i.test(path)) return `path "${path}" holds an encoded separator or dot`;
  if (path.split("/").some((s) => s === "." || s === "..")) return `path "${path}" holds a dot segment`;
  return undefined;
}
