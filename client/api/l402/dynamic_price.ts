/**
 * Price that rises with load: the base price while the route is quiet, then one more base price for every
 * `stepInFlight` requests already being served, up to `maxMultiplier` times the base. Paying more when busy
 * is the rate limiter: traffic that is not worth the price backs off by itself.
 */

/** Default: each 10 concurrent paid requests add one base price. */
export const DEFAULT_STEP_IN_FLIGHT = 10;
/** Default ceiling: never more than 10x the base price. */
export const DEFAULT_MAX_MULTIPLIER = 10;

/** Tuning of `dynamicPrice`; both fields optional. */
export interface DynamicPricing {
  stepInFlight?: number;
  maxMultiplier?: number;
}

/**
 * Price in satoshis for the next token given the requests in flight.
 * @example dynamicPrice(10, 25) // 30 with the defaults
 */
export function dynamicPrice(baseSat: number, inFlight: number, p: DynamicPricing = {}): number {
  const step = p.stepInFlight ?? DEFAULT_STEP_IN_FLIGHT;
  const cap = p.maxMultiplier ?? DEFAULT_MAX_MULTIPLIER;
  if (!(step > 0) || !(cap >= 1)) throw new RangeError(`Cannot price: stepInFlight ${step} and maxMultiplier ${cap} must be positive (multiplier at least 1)`);
  const multiplier = Math.min(cap, 1 + Math.floor(Math.max(0, inFlight) / step));
  return Math.ceil(baseSat * multiplier);
}

/** Requests currently being served; share one meter across routes to price by the whole API's load. */
export class LoadMeter {
  inFlight = 0;
}
