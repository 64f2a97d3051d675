/**
 * Payment backend on LND's REST API (lnd's REST proxy, default port 8080):
 *   POST /v1/invoices            body {"value":"<sat>","memo":"...","expiry":"<s>"} → {"r_hash": b64, "payment_request": "lnbc..."}
 *   GET  /v1/invoice/{r_hash_str} (hash in hex)                                     → Invoice {"state": "OPEN"|"SETTLED"|..., "settled": bool}
 * Every request carries the invoice macaroon as hex in `Grpc-Metadata-macaroon`. LND serves a self-signed
 * certificate, so the client trusts exactly that certificate: it is the only CA, and its SHA-256
 * fingerprint must match the presented one.
 */
import { Buffer } from "node:buffer";
import { X509Certificate } from "node:crypto";
import { z } from "zod/mini";
import { PaymentBackendError, type Invoice, type PaymentBackend } from "./payment_backend.ts";

/** Time allowed for one LND call before the challenge fails with 503. */
export const LND_REQUEST_TIMEOUT_MS = 5_000;
/** Default invoice lifetime asked of LND. */
export const LND_INVOICE_EXPIRY_S = 600;
/** Largest LND reply we read. */
export const MAX_LND_REPLY_BYTES = 64 * 1024;
/** Longest memo we pass on (LND limits memos to 639 bytes). */
export const MAX_MEMO_CHARS = 256;

/** How to reach and authenticate to LND. */
export interface LndRestOptions {
  /** Base URL, e.g. https://127.0.0.1:8080 */
  url: string;
  /** Invoice macaroon (invoice.macaroon), hex. */
  macaroonHex: string;
  /** LND's tls.cert, PEM; the only certificate trusted. */
  tlsCertPem: string;
  invoiceExpirySeconds?: number;
  timeoutMs?: number;
}

const AddInvoiceReply = z.object({ r_hash: z.string().check(z.minLength(1)), payment_request: z.string().check(z.minLength(1)) });
const InvoiceReply = z.object({ state: z.optional(z.string()), settled: z.optional(z.boolean()) });

/**
 * Creates a backend that talks to LND over REST with a pinned certificate.
 * @example const backend = lndRestBackend({ url: "https://127.0.0.1:8080", macaroonHex, tlsCertPem });
 */
export function lndRestBackend(opts: LndRestOptions): PaymentBackend {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(opts.macaroonHex)) throw new TypeError("Cannot use LND macaroon: not hex");
  const pin = new X509Certificate(opts.tlsCertPem).fingerprint256;
  const base = opts.url.replace(/\/+$/, "");
  const tls = {
    ca: opts.tlsCertPem,
    checkServerIdentity: (_host: string, cert: { fingerprint256?: string }) =>
      cert.fingerprint256 === pin ? undefined : new Error(`LND certificate ${cert.fingerprint256} does not match the pinned ${pin}`),
  };

  async function call(path: string, init: RequestInit): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(base + path, {
        ...init,
        headers: { "Grpc-Metadata-macaroon": opts.macaroonHex, "Content-Type": "application/json" },
        signal: AbortSignal.timeout(opts.timeoutMs ?? LND_REQUEST_TIMEOUT_MS),
        tls,
      } as RequestInit);
    } catch (e) {
      throw new PaymentBackendError("unavailable", `Cannot reach LND at ${base}: ${(e as Error).message}`);
    }
    const text = await readLimited(res);
    if (res.status >= 502 && res.status <= 504) throw new PaymentBackendError("unavailable", `LND ${path} answered ${res.status}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new PaymentBackendError("bad_reply", `LND ${path} answered ${res.status} with non-JSON`);
    }
    if (!res.ok) {
      const message = (body as { message?: unknown })?.message;
      throw new PaymentBackendError("refused", `LND ${path} answered ${res.status}: ${typeof message === "string" ? message : "no message"}`);
    }
    return body;
  }

  return {
    async createInvoice(amountSat, memo) {
      if (!Number.isSafeInteger(amountSat) || amountSat <= 0) throw new RangeError(`Cannot create invoice: amount ${amountSat} is not a positive integer`);
      const body = JSON.stringify({
        value: String(amountSat),
        memo: memo.slice(0, MAX_MEMO_CHARS),
        expiry: String(opts.invoiceExpirySeconds ?? LND_INVOICE_EXPIRY_S),
      });
      const r = AddInvoiceReply.safeParse(await call("/v1/invoices", { method: "POST", body }));
      if (!r.success) throw new PaymentBackendError("bad_reply", "LND add-invoice reply lacks r_hash or payment_request");
      let hash: Uint8Array;
      try {
        hash = Uint8Array.fromBase64(r.data.r_hash);
      } catch {
        throw new PaymentBackendError("bad_reply", "LND r_hash is not base64");
      }
      if (hash.length !== 32) throw new PaymentBackendError("bad_reply", `LND r_hash of ${hash.length} bytes`);
      return { paymentRequest: r.data.payment_request, paymentHash: hash.toHex() } satisfies Invoice;
    },
    async lookup(paymentHash) {
      if (!/^[0-9a-f]{64}$/.test(paymentHash)) throw new RangeError("Cannot look up invoice: payment hash is not 64 lowercase hex digits");
      let reply: unknown;
      try {
        reply = await call(`/v1/invoice/${paymentHash}`, { method: "GET" });
      } catch (e) {
        // LND answers an unknown hash with an error (404 or 500 "unable to locate invoice").
        if (e instanceof PaymentBackendError && e.reason === "refused" && /unable to locate|not found/i.test(e.message)) return false;
        throw e;
      }
      const r = InvoiceReply.safeParse(reply);
      if (!r.success) throw new PaymentBackendError("bad_reply", "LND invoice reply is malformed");
      return r.data.state === "SETTLED" || (r.data.state === undefined && r.data.settled === true);
    },
  };
}

/** Reads the body, giving up past MAX_LND_REPLY_BYTES even when no Content-Length was sent. */
async function readLimited(res: Response): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (res.body) {
    for await (const chunk of res.body) {
      total += chunk.byteLength;
      if (total > MAX_LND_REPLY_BYTES) {
        await res.body.cancel().catch(() => {});
        throw new PaymentBackendError("bad_reply", `LND reply over ${MAX_LND_REPLY_BYTES} bytes`);
      }
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks).toString("utf8");
}
