import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lndRestBackend, PaymentBackendError } from "./index.ts";
import { selfSignedCert, startLndFake, type LndFake } from "./lnd_fake_server.ts";

const MACAROON_HEX = "0201036c6e64".padEnd(64, "0");
let dir: string;
let cert: { key: string; cert: string };
let otherCert: { key: string; cert: string };
let lnd: LndFake;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "inlay-lnd-"));
  [cert, otherCert] = await Promise.all([selfSignedCert(dir, "lnd"), selfSignedCert(dir, "other")]);
  lnd = startLndFake(cert, MACAROON_HEX);
});
afterAll(async () => {
  await lnd.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("lndRestBackend() creates an invoice and sees it settle", async () => {
  const backend = lndRestBackend({ url: lnd.url, macaroonHex: MACAROON_HEX, tlsCertPem: cert.cert });
  const inv = await backend.createInvoice(21, "test memo");
  expect(inv.paymentHash).toMatch(/^[0-9a-f]{64}$/);
  expect(inv.paymentRequest).toStartWith("lnbcrt21");
  expect(await backend.lookup(inv.paymentHash)).toBe(false);
  const preimage = lnd.settle(inv.paymentRequest);
  expect(new Bun.CryptoHasher("sha256").update(Uint8Array.fromHex(preimage)).digest("hex")).toBe(inv.paymentHash);
  expect(await backend.lookup(inv.paymentHash)).toBe(true);
});

test("lndRestBackend() answers false for an unknown payment hash", async () => {
  const backend = lndRestBackend({ url: lnd.url, macaroonHex: MACAROON_HEX, tlsCertPem: cert.cert });
  expect(await backend.lookup("00".repeat(32))).toBe(false);
});

test("lndRestBackend() refuses a server whose certificate is not the pinned one", async () => {
  const backend = lndRestBackend({ url: lnd.url, macaroonHex: MACAROON_HEX, tlsCertPem: otherCert.cert });
  const e = await backend.createInvoice(1, "x").catch((x: unknown) => x);
  expect(e).toBeInstanceOf(PaymentBackendError);
  expect((e as PaymentBackendError).reason).toBe("unavailable");
});

test("lndRestBackend() reports LND's refusal of a wrong macaroon", async () => {
  const backend = lndRestBackend({ url: lnd.url, macaroonHex: "ab".repeat(32), tlsCertPem: cert.cert });
  const e = (await backend.createInvoice(1, "x").catch((x: unknown) => x)) as PaymentBackendError;
  expect(e.reason).toBe("refused");
  expect(e.message).toContain("signature mismatch");
});

test("lndRestBackend() reports LND being down as unavailable", async () => {
  const backend = lndRestBackend({ url: lnd.url, macaroonHex: MACAROON_HEX, tlsCertPem: cert.cert });
  lnd.setDown(true);
  try {
    expect(((await backend.createInvoice(1, "x").catch((x: unknown) => x)) as PaymentBackendError).reason).toBe("unavailable");
  } finally {
    lnd.setDown(false);
  }
});
