/**
 * What the L402 middleware needs from a way of getting paid. Two implementations: LND's REST API
 * (`lndRestBackend`) and operator-issued prepaid credits (`CreditBackend`).
 */

/** A payment request the caller must settle; settling it reveals the preimage of `paymentHash`. */
export interface Invoice {
  /** BOLT 11 string for Lightning, or a backend-specific request string. */
  paymentRequest: string;
  /** sha256(preimage), lowercase hex (64 characters). */
  paymentHash: string;
}

/** The one interface the middleware pays through. */
export interface PaymentBackend {
  /** Creates an invoice for `amountSat` satoshis (or credits) with a human-readable memo. */
  createInvoice(amountSat: number, memo: string): Promise<Invoice>;
  /** Whether the invoice with this payment hash (hex) has been settled; false for unknown hashes. */
  lookup(paymentHash: string): Promise<boolean>;
}

/** Raised by backends when the payment system cannot answer (down, refused, malformed reply). */
export class PaymentBackendError extends Error {
  override readonly name = "PaymentBackendError";
  constructor(
    readonly reason: "unavailable" | "refused" | "bad_reply" | "full",
    message: string,
  ) {
    super(message);
  }
}
