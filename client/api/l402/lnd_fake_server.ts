/**
 * Test support: a stand-in for LND's REST API over TLS, answering as LND documents (lightning.proto via
 * grpc-gateway: int64 as strings, bytes as standard base64, errors as {"code","message","details"}):
 *   POST /v1/invoices              → {"r_hash","payment_request","add_index","payment_addr"}
 *   GET  /v1/invoice/{r_hash_str}  → Invoice {..., "settled", "state": "OPEN"|"SETTLED", "r_preimage", ...}
 * Requests without the expected `Grpc-Metadata-macaroon` get LND's macaroon error. `settle()` plays the
 * payer's node: it marks an invoice paid and returns its preimage, as a Lightning payment would reveal it.
 * There is no Lightning node on this machine, hence this stand-in.
 */
import { createHash, randomBytes } from "node:crypto";

interface FakeInvoice {
  memo: string;
  value: number;
  preimage: Uint8Array;
  hash: Uint8Array;
  paymentRequest: string;
  created: number;
  settled: number;
  expiry: number;
  addIndex: number;
}

/** Handle on the running stand-in. */
export interface LndFake {
  url: string;
  /** Pays an invoice (by payment request) and returns the preimage as hex. */
  settle(paymentRequest: string): string;
  invoiceCount(): number;
  /** Makes the next calls fail with HTTP 503 (LND down behind a proxy). */
  setDown(down: boolean): void;
  stop(): Promise<void>;
}

/** Starts the stand-in on 127.0.0.1:0 with the given certificate; `macaroonHex` is the accepted macaroon. */
export function startLndFake(tls: { key: string; cert: string }, macaroonHex: string): LndFake {
  const invoices = new Map<string, FakeInvoice>();
  let down = false;
  const err = (status: number, code: number, message: string) => Response.json({ code, message, details: [] }, { status });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls,
    async fetch(req) {
      if (down) return err(503, 14, "connection refused");
      if (req.headers.get("grpc-metadata-macaroon") !== macaroonHex) return err(500, 2, "verification failed: signature mismatch after caveat verification");
      const url = new URL(req.url);
      if (req.method === "POST" && url.pathname === "/v1/invoices") {
        const body = (await req.json()) as { value?: string | number; memo?: string; expiry?: string | number };
        const preimage = new Uint8Array(randomBytes(32));
        const hash = new Uint8Array(createHash("sha256").update(preimage).digest());
        const addIndex = invoices.size + 1;
        const inv: FakeInvoice = {
          memo: body.memo ?? "",
          value: Number(body.value ?? 0),
          preimage,
          hash,
          paymentRequest: `lnbcrt${Number(body.value ?? 0)}n1fake${hash.toHex().slice(0, 40)}`,
          created: Math.floor(Date.now() / 1000),
          settled: 0,
          expiry: Number(body.expiry ?? 86400),
          addIndex,
        };
        invoices.set(hash.toHex(), inv);
        return Response.json({ r_hash: hash.toBase64(), payment_request: inv.paymentRequest, add_index: String(addIndex), payment_addr: new Uint8Array(randomBytes(32)).toBase64() });
      }
      const m = /^\/v1\/invoice\/([0-9a-fA-F]{64})$/.exec(url.pathname);
      if (req.method === "GET" && m) {
        const inv = invoices.get(m[1]!.toLowerCase());
        if (!inv) return err(404, 5, "unable to locate invoice");
        const paid = inv.settled > 0;
        return Response.json({
          memo: inv.memo,
          r_preimage: inv.preimage.toBase64(),
          r_hash: inv.hash.toBase64(),
          value: String(inv.value),
          value_msat: String(inv.value * 1000),
          settled: paid,
          creation_date: String(inv.created),
          settle_date: String(inv.settled),
          payment_request: inv.paymentRequest,
          expiry: String(inv.expiry),
          add_index: String(inv.addIndex),
          settle_index: paid ? "1" : "0",
          amt_paid_sat: paid ? String(inv.value) : "0",
          amt_paid_msat: paid ? String(inv.value * 1000) : "0",
          state: paid ? "SETTLED" : "OPEN",
          htlcs: [],
          is_keysend: false,
        });
      }
      return err(404, 5, "Not Found");
    },
  });
  return {
    url: `https://127.0.0.1:${server.port}`,
    settle(paymentRequest) {
      const inv = [...invoices.values()].find((i) => i.paymentRequest === paymentRequest);
      if (!inv) throw new Error(`Cannot pay: unknown invoice ${paymentRequest}`);
      inv.settled = Math.floor(Date.now() / 1000);
      return inv.preimage.toHex();
    },
    invoiceCount: () => invoices.size,
    setDown(d) {
      down = d;
    },
    stop: () => server.stop(true),
  };
}

/** A self-signed P-256 certificate for 127.0.0.1/localhost made with the openssl CLI, like LND's tls.cert. */
export async function selfSignedCert(dir: string, name: string): Promise<{ key: string; cert: string }> {
  const key = `${dir}/${name}.key`;
  const cert = `${dir}/${name}.pem`;
  const proc = Bun.spawn(
    ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
    { stdout: "ignore", stderr: "pipe" },
  );
  if ((await proc.exited) !== 0) throw new Error(`Cannot create certificate: openssl failed: ${await new Response(proc.stderr).text()}`);
  return { key: await Bun.file(key).text(), cert: await Bun.file(cert).text() };
}
