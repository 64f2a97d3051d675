/**
 * L402 end to end over @sign: a served hono app sells a route with the L402 middleware; the caller gets the
 * 402 challenge through atFetch, pays (prepaid credits through the same @sign API, or the LND REST
 * stand-in), and repeats with `Authorization: L402 <macaroon>:<preimage>`. Wrong preimages, tampered
 * macaroons and reused single-use tokens are refused.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { authorizationHeader, creditPaymentApp, CreditBackend, fetchWithL402, l402, lndRestBackend, parseChallenge, type Challenge } from "../../client/api/l402/index.ts";
import { selfSignedCert, startLndFake, type LndFake } from "../../client/api/l402/lnd_fake_server.ts";
import { ApiCaller, serveApi, type AtApiEnv, type ServedApi } from "../../client/api/serve/index.ts";
import type { AtClient } from "../../client/index.ts";
import { startStack, type Stack } from "../harness.ts";
import { onboarded } from "./fixture.ts";

const LND_MACAROON_HEX = "0201036c6e64".padEnd(64, "0");
let stack: Stack;
let dir: string;
let shop: AtClient;
let bob: AtClient;
let served: ServedApi;
let caller: ApiCaller;
let credits: CreditBackend;
let lnd: LndFake;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "inlay-l402-"));
  stack = await startStack({ atSigns: ["@shop", "@bob"] });
  [shop, bob] = [await onboarded(stack, "@shop"), await onboarded(stack, "@bob")];
  credits = new CreditBackend({ path: join(dir, "credits.sqlite") });
  const cert = await selfSignedCert(dir, "lnd");
  lnd = startLndFake(cert, LND_MACAROON_HEX);
  const rootKey = crypto.getRandomValues(new Uint8Array(32));
  const app = new Hono<AtApiEnv>()
    .get("/quote", l402({ rootKey, backend: credits, service: "quotes", priceSat: 10, maxCalls: 1 }), (c) => c.json({ quote: 42, caller: c.get("atSign") }))
    .get("/report", l402({ rootKey, backend: lndRestBackend({ url: lnd.url, macaroonHex: LND_MACAROON_HEX, tlsCertPem: cert.cert }), service: "reports", priceSat: 5 }), (c) =>
      c.json({ report: "ok" }),
    )
    .route("/credits", creditPaymentApp(credits));
  served = await serveApi(app, { client: shop, allow: ["*"] });
  caller = await ApiCaller.open(bob, { timeoutMs: 20_000 });
}, 60_000);

afterAll(async () => {
  await caller?.close();
  await served?.close();
  shop?.close();
  bob?.close();
  await lnd?.stop();
  credits?.close();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** fetch over @sign to the shop, in the shape fetchWithL402 takes. */
const viaAtSign = ((url: string | URL | Request, init?: RequestInit) => caller.fetch("@shop", String(url), init)) as typeof fetch;

function challengeOf(res: Response): Challenge {
  const header = res.headers.get("www-authenticate") ?? "";
  const ch = header
    .split(/,\s*(?=(?:L402|LSAT)\s)/i)
    .map(parseChallenge)
    .find((c) => c !== undefined);
  if (!ch) throw new Error(`no L402 challenge in "${header}"`);
  return ch;
}

test("402 with a challenge, pay with prepaid credits over the same @sign API, then 200; the token is single-use", async () => {
  const creditToken = credits.issueCredits(100);
  const payWithCredits = async (ch: Challenge) => {
    const res = await caller.fetch("@shop", "/credits/pay", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token: creditToken, invoice: ch.invoice }) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { preimage: string }).preimage;
  };
  const first = await viaAtSign("/quote");
  expect(first.status).toBe(402);
  expect(first.headers.get("www-authenticate")).toMatch(/(^|, )L402 macaroon="[^"]+", invoice="inlay-credit:/);
  await first.body?.cancel();

  const { response, token } = await fetchWithL402("/quote", {}, payWithCredits, undefined, viaAtSign);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ quote: 42, caller: "@bob" });
  expect(credits.balance(creditToken)).toBe(90);

  const again = await viaAtSign("/quote", { headers: { authorization: authorizationHeader(token!.macaroon, token!.preimage) } });
  expect(again.status).toBe(402);
  expect(await again.json()).toMatchObject({ error: "token_already_used" });
});

test("a wrong preimage and a tampered macaroon are refused", async () => {
  const creditToken = credits.issueCredits(100);
  const res = await viaAtSign("/quote");
  const ch = challengeOf(res);
  await res.body?.cancel();
  const wrong = await viaAtSign("/quote", { headers: { authorization: authorizationHeader(ch.macaroon, "00".repeat(32)) } });
  expect(wrong.status).toBe(402);
  expect(await wrong.json()).toMatchObject({ error: "wrong_preimage" });

  const paid = credits.pay(creditToken, ch.invoice);
  if (!paid.ok) throw new Error(paid.reason);
  // Flip one bit of the signature (the last bytes of a v2 binary macaroon).
  const bytes = Uint8Array.fromBase64(ch.macaroon);
  bytes[bytes.length - 1]! ^= 1;
  const flipped = bytes.toBase64();
  const tampered = await viaAtSign("/quote", { headers: { authorization: authorizationHeader(flipped, paid.preimage) } });
  expect(tampered.status).toBe(402);
  expect(await tampered.json()).toMatchObject({ error: "bad_signature" });
  const good = await viaAtSign("/quote", { headers: { authorization: authorizationHeader(ch.macaroon, paid.preimage) } });
  expect(good.status).toBe(200);
});

test("the LND REST backend: 402 with a Lightning invoice, settled by the stand-in node, then 200", async () => {
  const { response, token } = await fetchWithL402("/report", {}, async (ch) => lnd.settle(ch.invoice), undefined, viaAtSign);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ report: "ok" });
  expect(token!.macaroon.length).toBeGreaterThan(20);
  const reuse = await viaAtSign("/report", { headers: { authorization: authorizationHeader(token!.macaroon, token!.preimage) } });
  expect(reuse.status).toBe(200);
});
