/**
 * Capability tokens for APIs served by an @sign: the API owner mints a macaroon with first-party caveats
 * (caller @sign, path prefix, methods, expiry, call budget, calls per minute); holders narrow it and hand it
 * on; the API side checks it with its root key alone, counting calls in a bounded local store.
 *
 * @example
 * ```ts
 * const token = mintCapability(rootKey, { atSign: "@bob", pathPrefix: "/v1", methods: ["GET", "POST"], maxCalls: 1000 });
 * const forCarol = attenuateCapability(token, { atSign: "@carol", rpm: 10 }); // narrower: @bob AND @carol must match
 * const r = checkCapability(decodeCapability(encodeCapability(token)), { atSign: "@bob", path: "/v1/x", method: "GET" }, Date.now(), new CallCounters(), rootKey);
 * ```
 */
export { capabilityConditions, CaveatKey, parseCaveat, type CapabilityCaveats, type ParsedCaveat } from "./capability_caveats.ts";
export { CallCounters, COUNTER_SWEEP_INTERVAL_MS, MAX_COUNTER_ENTRIES, RATE_WINDOW_MS, type CounterRefusal, type CounterUse } from "./call_counters.ts";
export { checkCapability, type CapabilityRefusal, type CapabilityRequest, type CapabilityResult } from "./check_capability.ts";
export {
  attenuateCapability,
  CAPABILITY_ID_RANDOM_BYTES,
  CAPABILITY_ID_VERSION,
  decodeCapability,
  encodeCapability,
  MAX_CAPABILITY_TEXT_CHARS,
  mintCapability,
} from "./mint_capability.ts";
