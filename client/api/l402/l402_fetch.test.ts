import { afterAll, expect, test } from "bun:test";
import { Hono } from "hono";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreditBackend, fetchWithL402, l402 } from "./index.ts";

const dir = mkdtempSync(join(tmpdir(), "inlay-l402-fetch-"));
const backend = new CreditBackend({ path: join(dir, "credit.sqlite") });
afterAll(() => {
  backend.close();
  rmSync(dir, { recursive: true, force: true });
});

test("fetchWithL402() pays a challenge once, then reuses the token until its budget is spent", async () => {
  const rootKey = crypto.getRandomValues(new Uint8Array(32));
  const credit = backend.issueCredits(100);
  const app = new Hono().get("/q", l402({ rootKey, backend, service: "q", priceSat: 10, maxCalls: 2 }), (c) => c.text("answer"));
  using server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
  const url = `http://127.0.0.1:${server.port}/q`;
  let payments = 0;
  const pay = async (ch: { invoice: string }) => {
    payments++;
    const r = backend.pay(credit, ch.invoice);
    if (!r.ok) throw new Error(r.reason);
    return r.preimage;
  };
  const a = await fetchWithL402(url, {}, pay);
  expect(await a.response.text()).toBe("answer");
  const b = await fetchWithL402(url, {}, pay, a.token);
  expect(b.response.status).toBe(200);
  expect(b.token).toBe(a.token!);
  await b.response.body?.cancel();
  const c = await fetchWithL402(url, {}, pay, b.token);
  expect(c.response.status).toBe(200);
  expect(c.token).not.toEqual(a.token!);
  await c.response.body?.cancel();
  expect(payments).toBe(2);
  expect(backend.balance(credit)).toBe(80);
});
