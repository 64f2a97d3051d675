/**
 * L402 (Lightning HTTP 402) for hono routes: the middleware, its header and identifier formats
 * (Aperture-compatible), load-based pricing, and two payment backends behind one interface: LND's REST API
 * and operator-issued prepaid credits.
 *
 * @example
 * ```ts
 * const backend = new CreditBackend({ path: "/var/lib/api/credits.sqlite" });
 * app.get("/report", l402({ rootKey, backend, service: "reports", priceSat: 20, maxCalls: 1 }), (c) => c.json({ ok: true }));
 * app.route("/credits", creditPaymentApp(backend));
 * ```
 */
export { CreditBackend, CREDIT_INVOICE_TTL_MS, CREDIT_SETTLED_RETENTION_MS, MAX_CREDIT_AMOUNT, MAX_OPEN_CREDIT_INVOICES, type CreditBackendOptions, type PayRefusal, type PayResult } from "./credit_backend.ts";
export { creditPaymentApp, MAX_PAY_BODY_BYTES } from "./credit_payment_app.ts";
export { DEFAULT_MAX_MULTIPLIER, DEFAULT_STEP_IN_FLIGHT, dynamicPrice, LoadMeter, type DynamicPricing } from "./dynamic_price.ts";
export { CAPABILITIES_SUFFIX, MAX_CALLS_SUFFIX, parseServices, SERVICES, splitCaveat, VALID_UNTIL_SUFFIX } from "./l402_caveats.ts";
export {
  authorizationHeader,
  challengeHeaders,
  MAX_AUTHORIZATION_CHARS,
  MAX_CREDENTIAL_MACAROONS,
  parseAuthorization,
  parseChallenge,
  PREIMAGE_BYTES,
  type Challenge,
  type Credentials,
} from "./l402_header.ts";
export { decodeL402Identifier, encodeL402Identifier, L402_ID_BYTES, L402_ID_VERSION, PAYMENT_HASH_BYTES, TOKEN_ID_BYTES, type L402Identifier } from "./l402_identifier.ts";
export { fetchWithL402, type L402Token, type PayInvoice } from "./l402_fetch.ts";
export { l402, L402_DEFAULT_VALIDITY_MS, L402_RETRY_AFTER_S, type L402Grant, type L402Options, type L402Refusal } from "./l402_middleware.ts";
export { LND_INVOICE_EXPIRY_S, LND_REQUEST_TIMEOUT_MS, lndRestBackend, MAX_LND_REPLY_BYTES, MAX_MEMO_CHARS, type LndRestOptions } from "./lnd_rest_backend.ts";
export { PaymentBackendError, type Invoice, type PaymentBackend } from "./payment_backend.ts";
