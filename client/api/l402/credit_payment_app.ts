import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ENGLISH } from "../../../core/zod_english.ts";
import { z } from "zod/mini";
import type { CreditBackend, PayRefusal } from "./credit_backend.ts";

/** Largest pay request body. */
export const MAX_PAY_BODY_BYTES = 4_096;

const PayBody = z.strictObject({ token: z.string().check(z.minLength(1), z.maxLength(256)), invoice: z.string().check(z.minLength(1), z.maxLength(512)) });

const STATUS: Record<PayRefusal, 400 | 402 | 404 | 409 | 410> = {
  malformed_request: 400,
  unknown_token: 402,
  insufficient_credit: 402,
  unknown_invoice: 404,
  already_paid: 409,
  invoice_expired: 410,
};

/**
 * The payer side of the credit backend over HTTP: `POST /pay {"token","invoice"}` settles a credit invoice
 * and answers `{"preimage"}` (hex), the value to put after the colon in `Authorization: L402`.
 * Mount it where credit holders can reach it.
 * @example app.route("/credits", creditPaymentApp(backend));
 */
export function creditPaymentApp(backend: CreditBackend): Hono {
  return new Hono().post("/pay", bodyLimit({ maxSize: MAX_PAY_BODY_BYTES }), async (c) => {
    const parsed = PayBody.safeParse(await c.req.json().catch(() => undefined), ENGLISH);
    if (!parsed.success) return c.json({ error: "malformed_request", detail: z.prettifyError(parsed.error) }, 400);
    const r = backend.pay(parsed.data.token, parsed.data.invoice);
    return r.ok ? c.json({ preimage: r.preimage }) : c.json({ error: r.reason }, STATUS[r.reason]);
  });
}
