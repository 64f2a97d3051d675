import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addFirstPartyCaveat, decodeBase64Tolerant, decodeBinary, encodeBase64Std, encodeBinaryV2, mintMacaroon } from "../../../core/macaroon/index.ts";
import { CallCounters } from "../capability/index.ts";
import {
  authorizationHeader,
  CreditBackend,
  creditPaymentApp,
  encodeL402Identifier,
  l402,
  LoadMeter,
  lndRestBackend,
  parseChallenge,
  PaymentBackendError,
  type L402Options,
  type PaymentBackend,
} from "./index.ts";
import { selfSignedCert, startLndFake, type LndFake } from "./lnd_fake_server.ts";

const rootKey = crypto.getRandomValues(new Uint8Array(32));
const T0 = 1_800_000_000_000;
const dir = mkdtempSync(join(tmpdir(), "inlay-l402-"));
let dbs = 0;
const backends: CreditBackend[] = [];
function creditBackend(): CreditBackend {
  const b = new CreditBackend({ path: join(dir, `credit${dbs++}.sqlite`), now: () => T0 });
  backends.push(b);
  return b;
}
afterAll(() => {
  for (const b of backends) b.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Setup {
  app: Hono;
  backend: CreditBackend;
  credit: string;
  clock: { now: number };
}

function setup(extra: Partial<L402Options> = {}): Setup {
  const backend = (extra.backend as CreditBackend | undefined) ?? creditBackend();
  const clock = { now: T0 };
  const opts = { rootKey, backend, service: "quotes", priceSat: 10, now: () => clock.now, ...extra };
  const app = new Hono()
    .get("/quote", l402(opts), (c) => c.json({ quote: "buy low", token: c.get("l402").tokenId }))
    .get("/other", l402({ ...opts, service: "reports" }), (c) => c.text("report"));
  return { app, backend, credit: backend.issueCredits(1_000), clock };
}

/** Requests a challenge and pays it with credit; returns the pieces a client would hold. */
async function buyToken(s: Setup, path = "/quote") {
  const res = await s.app.request(path);
  expect(res.status).toBe(402);
  const ch = firstChallenge(res);
  const paid = s.backend.pay(s.credit, ch.invoice);
  if (!paid.ok) throw new Error(paid.reason);
  return { macaroon: ch.macaroon, preimage: paid.preimage, body: (await res.json()) as { price_sat: number; error: string } };
}

/** The first (LSAT) challenge: `Headers.get` joins the values with ", ". */
function firstChallenge(res: Response) {
  const c = parseChallenge(res.headers.get("WWW-Authenticate")!.split(", L402 ")[0]!);
  if (!c) throw new Error("Cannot read challenge");
  return c;
}

const call = (s: Setup, auth: string, path = "/quote") => s.app.request(path, { headers: { Authorization: auth } });

async function refusal(res: Response): Promise<string> {
  expect(res.status).toBe(402);
  expect(res.headers.get("WWW-Authenticate")).toContain("macaroon=");
  return ((await res.json()) as { error: string }).error;
}

describe("l402() challenge", () => {
  test("answers 402 with LSAT, L402 macaroon= and L402 token= challenges and a JSON body", async () => {
    const s = setup();
    const res = await s.app.request("/quote");
    expect(res.status).toBe(402);
    const values = res.headers.get("WWW-Authenticate")!;
    expect(values).toStartWith("LSAT macaroon=");
    expect(values).toContain(', L402 macaroon="');
    expect(values).toContain(', L402 version="0", token="');
    expect(await res.json()).toMatchObject({ error: "missing_credentials", price_sat: 10 });
  });

  test("the challenge macaroon carries Aperture's caveats and decodes with the npm macaroon package", async () => {
    const s = setup({ maxCalls: 3, validityMs: 60_000, capability: "read" });
    const { macaroon } = await buyToken(s);
    const theirs = require("macaroon").importMacaroon(macaroon) as { caveats: { identifier: Uint8Array }[]; identifier: Uint8Array };
    const conds = theirs.caveats.map((c) => new TextDecoder().decode(c.identifier));
    expect(conds).toEqual(["services=quotes:0", `quotes_valid_until=${(T0 + 60_000) / 1000}`, "quotes_capabilities=read", "quotes_max_calls=3"]);
    expect(theirs.identifier.length).toBe(66);
  });
});

describe("l402() with the credit backend", () => {
  test("pays, then serves the route with L402 and with the legacy LSAT scheme", async () => {
    const s = setup();
    const t = await buyToken(s);
    const ok = await call(s, authorizationHeader(t.macaroon, t.preimage));
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { quote: string }).quote).toBe("buy low");
    expect((await call(s, `LSAT ${t.macaroon}:${t.preimage}`)).status).toBe(200);
    expect(s.backend.balance(s.credit)).toBe(990);
  });

  test("refuses a tampered macaroon", async () => {
    const s = setup();
    const t = await buyToken(s);
    const bytes = decodeBase64Tolerant(t.macaroon, "m");
    const m = decodeBinary(bytes);
    // Drop the expiry caveat, keeping the signature: the chain no longer matches.
    const widened = encodeBase64Std(encodeBinaryV2({ ...m, caveats: m.caveats.slice(0, 1) }));
    expect(await refusal(await call(s, authorizationHeader(widened, t.preimage)))).toBe("bad_signature");
    const flipped = bytes.slice();
    flipped[flipped.length - 1]! ^= 1;
    expect(await refusal(await call(s, authorizationHeader(encodeBase64Std(flipped), t.preimage)))).toBe("bad_signature");
    expect(await refusal(await call(s, authorizationHeader("AgE", t.preimage)))).toBe("malformed_macaroon");
  });

  test("refuses a wrong preimage, and a malformed one", async () => {
    const s = setup();
    const t = await buyToken(s);
    expect(await refusal(await call(s, authorizationHeader(t.macaroon, "00".repeat(32))))).toBe("wrong_preimage");
    expect(await refusal(await call(s, authorizationHeader(t.macaroon, "00")))).toBe("malformed_credentials");
  });

  test("refuses an expired token, including one a holder shortened", async () => {
    const s = setup({ validityMs: 60_000 });
    const t = await buyToken(s);
    const shortened = encodeBase64Std(encodeBinaryV2(addFirstPartyCaveat(decodeBinary(decodeBase64Tolerant(t.macaroon, "m")), `quotes_valid_until=${(T0 + 10_000) / 1000}`)));
    expect((await call(s, authorizationHeader(shortened, t.preimage))).status).toBe(200);
    s.clock.now = T0 + 10_000;
    expect(await refusal(await call(s, authorizationHeader(shortened, t.preimage)))).toBe("expired");
    expect((await call(s, authorizationHeader(t.macaroon, t.preimage))).status).toBe(200);
    s.clock.now = T0 + 60_000;
    expect(await refusal(await call(s, authorizationHeader(t.macaroon, t.preimage)))).toBe("expired");
  });

  test("refuses once the call budget is spent", async () => {
    const s = setup({ maxCalls: 2 });
    const t = await buyToken(s);
    const auth = authorizationHeader(t.macaroon, t.preimage);
    expect((await call(s, auth)).status).toBe(200);
    expect((await call(s, auth)).status).toBe(200);
    expect(await refusal(await call(s, auth))).toBe("budget_exhausted");
  });

  test("refuses a replayed single-use token, also when re-wrapped with an extra caveat", async () => {
    const s = setup({ maxCalls: 1 });
    const t = await buyToken(s);
    expect((await call(s, authorizationHeader(t.macaroon, t.preimage))).status).toBe(200);
    expect(await refusal(await call(s, authorizationHeader(t.macaroon, t.preimage)))).toBe("token_already_used");
    const rewrapped = encodeBase64Std(encodeBinaryV2(addFirstPartyCaveat(decodeBinary(decodeBase64Tolerant(t.macaroon, "m")), "other_thing=1")));
    expect(await refusal(await call(s, authorizationHeader(rewrapped, t.preimage)))).toBe("token_already_used");
  });

  test("refuses a token bought for another service, a lower tier, or a missing capability", async () => {
    const s = setup();
    const t = await buyToken(s, "/other");
    expect(await refusal(await call(s, authorizationHeader(t.macaroon, t.preimage)))).toBe("wrong_service");

    const tiered = setup({ tier: 2 });
    const mintedAtTier0 = await buyToken(setup({ backend: tiered.backend } as Partial<L402Options>));
    expect(await refusal(await call(tiered, authorizationHeader(mintedAtTier0.macaroon, mintedAtTier0.preimage)))).toBe("tier_too_low");

    const capped = setup({ capability: "write" });
    const readOnly = await buyToken(setup({ backend: capped.backend, capability: "read" } as Partial<L402Options>));
    expect(await refusal(await call(capped, authorizationHeader(readOnly.macaroon, readOnly.preimage)))).toBe("capability_not_allowed");
  });

  test("refuses an unknown caveat aimed at this service and ignores other services' caveats", async () => {
    const s = setup();
    const t = await buyToken(s);
    const m = decodeBinary(decodeBase64Tolerant(t.macaroon, "m"));
    const foreign = encodeBase64Std(encodeBinaryV2(addFirstPartyCaveat(m, "reports_valid_until=1")));
    expect((await call(s, authorizationHeader(foreign, t.preimage))).status).toBe(200);
    const unknown = encodeBase64Std(encodeBinaryV2(addFirstPartyCaveat(m, "quotes_region=eu")));
    expect(await refusal(await call(s, authorizationHeader(unknown, t.preimage)))).toBe("unknown_caveat");
  });

  test("refuses an identifier that is not Aperture's v0 layout", async () => {
    const s = setup();
    const id = encodeL402Identifier({ paymentHash: new Uint8Array(32), tokenId: new Uint8Array(32) });
    id[1] = 9;
    const m = encodeBase64Std(encodeBinaryV2(addFirstPartyCaveat(mintMacaroon({ rootKey, identifier: id }), "services=quotes:0")));
    expect(await refusal(await call(s, authorizationHeader(m, "00".repeat(32))))).toBe("unknown_identifier");
  });

  test("answers 503 when the budget store is full of live tokens", async () => {
    const s = setup({ maxCalls: 5, counters: new CallCounters(1) });
    const a = await buyToken(s);
    const b = await buyToken(s);
    expect((await call(s, authorizationHeader(a.macaroon, a.preimage))).status).toBe(200);
    const res = await call(s, authorizationHeader(b.macaroon, b.preimage));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: "counter_store_full" });
  });
});

describe("l402() pricing and backend failure", () => {
  test("the price rises with requests in flight, bounded by the multiplier", async () => {
    const load = new LoadMeter();
    const s = setup({ load, pricing: { stepInFlight: 2, maxMultiplier: 3 } });
    const price = async () => (await buyToken(s)).body.price_sat;
    expect(await price()).toBe(10);
    load.inFlight = 2;
    expect(await price()).toBe(20);
    load.inFlight = 100;
    expect(await price()).toBe(30);
  });

  test("a paid request counts as in flight while its handler runs", async () => {
    const load = new LoadMeter();
    const backend = creditBackend();
    const credit = backend.issueCredits(100);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let seen = -1;
    const app = new Hono().get("/slow", l402({ rootKey, backend, service: "slow", priceSat: 1, load }), async (c) => {
      seen = load.inFlight;
      await gate;
      return c.text("done");
    });
    const ch = firstChallenge(await app.request("/slow"));
    const paid = backend.pay(credit, ch.invoice);
    if (!paid.ok) throw new Error(paid.reason);
    const pending = app.request("/slow", { headers: { Authorization: authorizationHeader(ch.macaroon, paid.preimage) } });
    const deadline = Date.now() + 2_000;
    while (seen < 0 && Date.now() < deadline) await Bun.sleep(1);
    expect(seen).toBe(1);
    release();
    expect((await pending).status).toBe(200);
    expect(load.inFlight).toBe(0);
  });

  test("answers 503 with Retry-After when the payment backend is down", async () => {
    const down: PaymentBackend = {
      createInvoice: () => Promise.reject(new PaymentBackendError("unavailable", "node offline")),
      lookup: () => Promise.resolve(false),
    };
    const app = new Hono().get("/x", l402({ rootKey, backend: down, service: "x", priceSat: 1 }), (c) => c.text("x"));
    const res = await app.request("/x");
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("5");
    expect(await res.json()).toMatchObject({ error: "payment_backend_unavailable" });
  });
});

describe("l402() end to end over real sockets with LND's REST API", () => {
  const macaroonHex = "0201036c6e64".padEnd(64, "0");
  let lnd: LndFake;
  let tlsCertPem: string;
  beforeAll(async () => {
    const cert = await selfSignedCert(dir, "lnd");
    tlsCertPem = cert.cert;
    lnd = startLndFake(cert, macaroonHex);
  });
  afterAll(() => lnd.stop());

  test("client gets 402 over HTTP, pays the LND invoice, retries with the preimage and gets 200", async () => {
    const backend = lndRestBackend({ url: lnd.url, macaroonHex, tlsCertPem });
    const app = new Hono().get("/paid", l402({ rootKey, backend, service: "paid", priceSat: 21, maxCalls: 1 }), (c) => c.json({ ok: true, token: c.get("l402").tokenId }));
    using server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
    const url = `http://127.0.0.1:${server.port}/paid`;

    const first = await fetch(url);
    expect(first.status).toBe(402);
    const ch = firstChallenge(first);
    await first.body?.cancel();
    expect(ch.invoice).toStartWith("lnbcrt21");
    const preimage = lnd.settle(ch.invoice);
    expect(await backend.lookup(new Bun.CryptoHasher("sha256").update(Uint8Array.fromHex(preimage)).digest("hex"))).toBe(true);

    const paid = await fetch(url, { headers: { Authorization: authorizationHeader(ch.macaroon, preimage) } });
    expect(paid.status).toBe(200);
    expect(await paid.json()).toMatchObject({ ok: true });
    const replay = await fetch(url, { headers: { Authorization: authorizationHeader(ch.macaroon, preimage) } });
    expect(replay.status).toBe(402);
    expect(await replay.json()).toMatchObject({ error: "token_already_used" });
  });

  test("the credit backend's pay endpoint completes the same flow over a socket", async () => {
    const backend = creditBackend();
    const credit = backend.issueCredits(50);
    const app = new Hono().route("/credits", creditPaymentApp(backend)).get("/paid", l402({ rootKey, backend, service: "paid", priceSat: 7, now: () => T0 }), (c) => c.text("ok"));
    using server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
    const base = `http://127.0.0.1:${server.port}`;
    const first = await fetch(`${base}/paid`);
    const ch = firstChallenge(first);
    await first.body?.cancel();
    const payRes = await fetch(`${base}/credits/pay`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token: credit, invoice: ch.invoice }) });
    const { preimage } = (await payRes.json()) as { preimage: string };
    const paid = await fetch(`${base}/paid`, { headers: { Authorization: authorizationHeader(ch.macaroon, preimage) } });
    expect(paid.status).toBe(200);
    expect(await paid.text()).toBe("ok");
    expect(backend.balance(credit)).toBe(43);
  });
});
