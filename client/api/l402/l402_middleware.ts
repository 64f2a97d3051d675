/**
 * hono middleware that puts any route behind L402: a request without valid credentials gets
 * `402 Payment Required` with a fresh macaroon and invoice; after paying, the caller repeats the request
 * with `Authorization: L402 <macaroon>:<preimage>` and is let through while the token's caveats hold.
 *
 * Checks, in order: the credential parses; the macaroon decodes and its identifier is Aperture's v0 layout;
 * the signature chain verifies under our root key; every caveat holds (service and tier, capability,
 * expiry, unknown caveats for our service refused); sha256(preimage) equals the payment hash in the
 * identifier; then one call is counted against the token's budgets (`_max_calls`; 1 = single use) in a
 * bounded store. Refusals answer 402 with a new challenge and `{ error, detail }`, except a full budget store
 * or an unreachable payment backend (503): paying again would not help there.
 *
 * One root key signs every token (no per-token state until a budget is used); rotate it to revoke all.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { createHash } from "node:crypto";
import { constantTimeEqual } from "../../../core/crypto/constant_time_equal.ts";
import {
  addFirstPartyCaveat,
  decodeBase64Tolerant,
  decodeBinary,
  encodeBase64Std,
  encodeBinaryV2,
  MacaroonError,
  mintMacaroon,
  verifyMacaroon,
  type Macaroon,
} from "../../../core/macaroon/index.ts";
import { CallCounters, type CounterUse } from "../capability/call_counters.ts";
import { dynamicPrice, LoadMeter, type DynamicPricing } from "./dynamic_price.ts";
import { CAPABILITIES_SUFFIX, MAX_CALLS_SUFFIX, mintCaveats, parseServices, SERVICES, splitCaveat, VALID_UNTIL_SUFFIX } from "./l402_caveats.ts";
import { challengeHeaders, parseAuthorization, type Credentials } from "./l402_header.ts";
import { decodeL402Identifier, encodeL402Identifier, TOKEN_ID_BYTES } from "./l402_identifier.ts";
import { PaymentBackendError, type PaymentBackend } from "./payment_backend.ts";

/** Default token lifetime: short, so a leaked token is worth little. */
export const L402_DEFAULT_VALIDITY_MS = 10 * 60_000;
/** Seconds a client is asked to wait after a 503. */
export const L402_RETRY_AFTER_S = 5;

/** Stable error tags in the JSON body of a refusal. */
export type L402Refusal =
  | "missing_credentials"
  | "malformed_credentials"
  | "malformed_macaroon"
  | "unknown_identifier"
  | "bad_signature"
  | "wrong_preimage"
  | "wrong_service"
  | "tier_too_low"
  | "capability_not_allowed"
  | "unknown_caveat"
  | "malformed_caveat"
  | "expired"
  | "budget_exhausted"
  | "token_already_used"
  | "counter_store_full"
  | "payment_backend_unavailable";

/** What a handler behind the middleware learns about the paid token (`c.get("l402")`). */
export interface L402Grant {
  /** Aperture token id, hex. */
  tokenId: string;
  /** Payment hash the token is bound to, hex. */
  paymentHash: string;
  service: string;
}

/** Options of `l402()`; `rootKey`, `backend`, `service` and `priceSat` are required. */
export interface L402Options {
  /** Root key for every token this middleware mints and verifies (32 random bytes, kept secret). */
  rootKey: Uint8Array;
  backend: PaymentBackend;
  /** Service name in caveats: letters, digits, `_ . -`. */
  service: string;
  /** Base price of a token for this route, in satoshis (or credits); may depend on the request. */
  priceSat: number | ((c: Context) => number);
  /** Tier minted into tokens and required of presented ones (Aperture's base tier is 0). */
  tier?: number;
  /** Capability this route needs; minted tokens carry exactly it. */
  capability?: string;
  /** Token lifetime from minting. */
  validityMs?: number;
  /** Calls each token may make; 1 makes tokens single-use. Unlimited when absent. */
  maxCalls?: number;
  pricing?: DynamicPricing;
  /** Shared in-flight meter; one per middleware when absent. */
  load?: LoadMeter;
  /** Budget / replay store; share it between routes that share a root key. */
  counters?: CallCounters;
  now?: () => number;
  /** Location hint written into macaroons. */
  location?: string;
}

type Verdict = { ok: true; grant: L402Grant } | { ok: false; reason: L402Refusal; detail: string };

const SERVICE_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const CAPABILITY_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Creates the middleware for one route (or a group of routes sold together).
 *
 * @example
 * ```ts
 * const app = new Hono();
 * app.get("/quote", l402({ rootKey, backend, service: "quotes", priceSat: 10, validityMs: 60_000, maxCalls: 1 }), (c) =>
 *   c.json({ quote: "...", paid: c.get("l402").tokenId }),
 * );
 * ```
 */
export function l402(opts: L402Options) {
  if (!SERVICE_RE.test(opts.service)) throw new RangeError(`Cannot create L402 middleware: service "${opts.service}" must match ${SERVICE_RE}`);
  if (opts.capability !== undefined && !CAPABILITY_RE.test(opts.capability)) throw new RangeError(`Cannot create L402 middleware: capability "${opts.capability}" must match ${CAPABILITY_RE}`);
  if (opts.maxCalls !== undefined && (!Number.isSafeInteger(opts.maxCalls) || opts.maxCalls < 1)) throw new RangeError(`Cannot create L402 middleware: maxCalls ${opts.maxCalls} must be a positive integer`);
  const tier = opts.tier ?? 0;
  const now = opts.now ?? Date.now;
  const load = opts.load ?? new LoadMeter();
  const counters = opts.counters ?? new CallCounters();
  const validity = opts.validityMs ?? L402_DEFAULT_VALIDITY_MS;

  async function challenge(c: Context, reason: L402Refusal, detail: string): Promise<Response> {
    const base = typeof opts.priceSat === "function" ? opts.priceSat(c) : opts.priceSat;
    const price = dynamicPrice(base, load.inFlight, opts.pricing);
    let invoice;
    try {
      invoice = await opts.backend.createInvoice(price, `${opts.service} ${c.req.method} ${c.req.path}`);
    } catch (e) {
      if (!(e instanceof PaymentBackendError)) throw e;
      return unavailable(c, "payment_backend_unavailable", e.message);
    }
    const identifier = encodeL402Identifier({ paymentHash: Uint8Array.fromHex(invoice.paymentHash), tokenId: crypto.getRandomValues(new Uint8Array(TOKEN_ID_BYTES)) });
    const caps = opts.capability === undefined ? undefined : [opts.capability];
    const mac = mintCaveats(opts.service, tier, now() + validity, opts.maxCalls, caps).reduce<Macaroon>(
      (m, cav) => addFirstPartyCaveat(m, cav),
      mintMacaroon({ rootKey: opts.rootKey, identifier, location: opts.location }),
    );
    const macaroon = encodeBase64Std(encodeBinaryV2(mac));
    for (const v of challengeHeaders(macaroon, invoice.paymentRequest)) c.header("WWW-Authenticate", v, { append: true });
    return c.json({ error: reason, detail, price_sat: price, macaroon, invoice: invoice.paymentRequest }, 402);
  }

  function verify(creds: Credentials, at: number): Verdict {
    let macs: Macaroon[];
    try {
      macs = creds.macaroons.map((t) => decodeBinary(decodeBase64Tolerant(t, "macaroon")));
    } catch (e) {
      if (e instanceof MacaroonError) return { ok: false, reason: "malformed_macaroon", detail: e.message };
      throw e;
    }
    const [root, ...discharges] = macs as [Macaroon, ...Macaroon[]];
    const id = decodeL402Identifier(root.identifier);
    if (typeof id === "string") return { ok: false, reason: "unknown_identifier", detail: id };

    let refusal: { reason: L402Refusal; detail: string } | undefined;
    const refuse = (reason: L402Refusal, detail: string) => ((refusal = { reason, detail }), detail);
    const uses: Omit<CounterUse, "expiresAt">[] = [];
    let expiresAt = Infinity;
    let servedHere = false;
    const own = opts.service + "_";
    const v = verifyMacaroon(
      root,
      opts.rootKey,
      (text, ctx) => {
        const cav = splitCaveat(text);
        if (!cav) return refuse("malformed_caveat", `"${text}" is not condition=value`);
        const { condition, value } = cav;
        if (condition === SERVICES) {
          const services = parseServices(value);
          if (!services) return refuse("malformed_caveat", `services "${value}" is not name:tier,...`);
          const t = services.get(opts.service);
          if (t === undefined) return refuse("wrong_service", `token is for ${value}, not ${opts.service}`);
          if (t < tier) return refuse("tier_too_low", `tier ${t} is below ${tier}`);
          servedHere = true;
          return null;
        }
        if (!condition.startsWith(own)) return null; // another service's caveat: not ours to judge (as Aperture)
        const suffix = condition.slice(opts.service.length);
        if (suffix === VALID_UNTIL_SUFFIX) {
          const s = /^[0-9]{1,12}$/.test(value) ? Number(value) * 1000 : NaN;
          if (Number.isNaN(s)) return refuse("malformed_caveat", `${condition} "${value}" is not unix seconds`);
          expiresAt = Math.min(expiresAt, s);
          return at < s ? null : refuse("expired", `expired at ${new Date(s).toISOString()}`);
        }
        if (suffix === CAPABILITIES_SUFFIX) {
          if (opts.capability === undefined || value.split(",").includes(opts.capability)) return null;
          return refuse("capability_not_allowed", `capability ${opts.capability} is not in ${value}`);
        }
        if (suffix === MAX_CALLS_SUFFIX) {
          const n = /^[1-9][0-9]{0,9}$/.test(value) ? Number(value) : NaN;
          if (Number.isNaN(n)) return refuse("malformed_caveat", `${condition} "${value}" is not a positive integer`);
          uses.push({ kind: "calls", key: ctx.chainKey.toHex(), limit: n });
          return null;
        }
        return refuse("unknown_caveat", `unknown caveat ${condition}`);
      },
      discharges,
    );
    if (!v.ok) return refusal ? { ok: false, ...refusal } : { ok: false, reason: "bad_signature", detail: v.detail };
    if (!servedHere) return { ok: false, reason: "wrong_service", detail: `token names no services, needs ${opts.service}` };
    const hash = new Uint8Array(createHash("sha256").update(creds.preimage).digest());
    if (!constantTimeEqual(hash, id.paymentHash)) return { ok: false, reason: "wrong_preimage", detail: "sha256(preimage) is not the payment hash" };
    const taken = counters.take(
      uses.map((u) => ({ ...u, expiresAt })),
      at,
    );
    if (taken) {
      if (taken.reason === "counter_store_full") return { ok: false, reason: "counter_store_full", detail: taken.detail };
      const single = uses.some((u) => u.limit === 1);
      return { ok: false, reason: single ? "token_already_used" : "budget_exhausted", detail: taken.detail };
    }
    return { ok: true, grant: { tokenId: id.tokenId.toHex(), paymentHash: id.paymentHash.toHex(), service: opts.service } };
  }

  return createMiddleware<{ Variables: { l402: L402Grant } }>(async function l402(c, next) {
    const creds = parseAuthorization(c.req.header("Authorization"));
    if (creds === undefined) return challenge(c, "missing_credentials", "no L402 credentials");
    if (typeof creds === "string") return challenge(c, "malformed_credentials", creds);
    const verdict = verify(creds, now());
    if (!verdict.ok) {
      if (verdict.reason === "counter_store_full") return unavailable(c, verdict.reason, verdict.detail);
      return challenge(c, verdict.reason, verdict.detail);
    }
    c.set("l402", verdict.grant);
    load.inFlight++;
    try {
      await next();
    } finally {
      load.inFlight--;
    }
  });
}

function unavailable(c: Context, reason: L402Refusal, detail: string): Response {
  c.header("Retry-After", String(L402_RETRY_AFTER_S));
  return c.json({ error: reason, detail }, 503);
}
