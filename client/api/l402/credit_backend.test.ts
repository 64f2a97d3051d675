import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreditBackend, creditPaymentApp, PaymentBackendError } from "./index.ts";

const dir = mkdtempSync(join(tmpdir(), "inlay-credit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (opts: { now?: () => number; maxOpenInvoices?: number } = {}) => new CreditBackend({ path: join(dir, `c${n++}.sqlite`), ...opts });

test("CreditBackend pays an invoice from credit and reveals the preimage of its hash", async () => {
  const b = fresh();
  const token = b.issueCredits(100);
  const inv = await b.createInvoice(30, "memo");
  expect(await b.lookup(inv.paymentHash)).toBe(false);
  const r = b.pay(token, inv.paymentRequest);
  if (!r.ok) throw new Error(r.reason);
  expect(new Bun.CryptoHasher("sha256").update(Uint8Array.fromHex(r.preimage)).digest("hex")).toBe(inv.paymentHash);
  expect(b.balance(token)).toBe(70);
  expect(await b.lookup(inv.paymentHash)).toBe(true);
  expect(b.pay(token, inv.paymentRequest)).toEqual({ ok: false, reason: "already_paid" });
  expect(b.balance(token)).toBe(70);
  b.close();
});

test("CreditBackend refuses insufficient credit, unknown tokens and invoices, and expired invoices", async () => {
  let now = 1_000;
  const b = fresh({ now: () => now });
  const token = b.issueCredits(10);
  const big = await b.createInvoice(11, "x");
  expect(b.pay(token, big.paymentRequest)).toEqual({ ok: false, reason: "insufficient_credit" });
  expect(b.balance(token)).toBe(10);
  expect(b.pay("inlaycredit_nope", big.paymentRequest)).toEqual({ ok: false, reason: "unknown_token" });
  expect(b.pay(token, `inlay-credit:${"00".repeat(32)}:1`)).toEqual({ ok: false, reason: "unknown_invoice" });
  expect(b.pay(token, "lnbc1garbage")).toEqual({ ok: false, reason: "malformed_request" });
  const small = await b.createInvoice(5, "x");
  now += 11 * 60_000;
  expect(b.pay(token, small.paymentRequest)).toEqual({ ok: false, reason: "invoice_expired" });
  b.close();
});

test("CreditBackend debits atomically across two connections to one database", async () => {
  const path = join(dir, "shared.sqlite");
  const a = new CreditBackend({ path });
  const b = new CreditBackend({ path });
  const token = a.issueCredits(50);
  const i1 = await a.createInvoice(30, "one");
  const i2 = await b.createInvoice(30, "two");
  const results = [a.pay(token, i1.paymentRequest), b.pay(token, i2.paymentRequest)];
  expect(results.filter((r) => r.ok)).toHaveLength(1);
  expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: "insufficient_credit" }]);
  expect(a.balance(token)).toBe(20);
  a.close();
  b.close();
});

test("CreditBackend bounds unpaid invoices and frees expired ones", async () => {
  let now = 0;
  const b = fresh({ now: () => now, maxOpenInvoices: 2 });
  await b.createInvoice(1, "a");
  await b.createInvoice(1, "b");
  const e = await b.createInvoice(1, "c").catch((x: unknown) => x);
  expect(e).toBeInstanceOf(PaymentBackendError);
  expect((e as PaymentBackendError).reason).toBe("full");
  now += 11 * 60_000;
  expect((await b.createInvoice(1, "d")).paymentHash).toMatch(/^[0-9a-f]{64}$/);
  b.close();
});

test("creditPaymentApp() pays over HTTP and maps refusals to statuses", async () => {
  const b = fresh();
  const app = creditPaymentApp(b);
  const token = b.issueCredits(5);
  const inv = await b.createInvoice(5, "x");
  const pay = (body: unknown) => app.request("/pay", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  const ok = await pay({ token, invoice: inv.paymentRequest });
  expect(ok.status).toBe(200);
  expect((await ok.json()) as object).toHaveProperty("preimage");
  expect((await pay({ token, invoice: inv.paymentRequest })).status).toBe(409);
  expect((await pay({ token, invoice: (await b.createInvoice(1, "y")).paymentRequest })).status).toBe(402);
  const missing = await pay({ token });
  expect(missing.status).toBe(400);
  expect(await missing.json()).toEqual({ error: "malformed_request", detail: "✖ Invalid input: expected string, received undefined\n  → at invoice" });
  b.close();
});
