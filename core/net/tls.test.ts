import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { serviceTls, trustedCas } from "./tls.ts";
import { loadOrCreateDevCa } from "../crypto/dev_ca.ts";

const home = mkdtempSync(join(tmpdir(), "inlay-tls-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

test("dev CA is created once, key mode 0600, and reused", async () => {
  const a = await loadOrCreateDevCa(home);
  const b = await loadOrCreateDevCa(home);
  expect(a.cert).toBe(b.cert);
  expect(statSync(join(home, "ca", "ca.key")).mode & 0o777).toBe(0o600);
  const ca = new X509Certificate(a.cert);
  expect(ca.ca).toBe(true);
  expect(ca.verify(ca.publicKey)).toBe(true);
});

test("leaf carries the host names and verifies against the CA", async () => {
  const tls = await serviceTls({ home, hosts: ["alice.example", "::1"] });
  const leaf = new X509Certificate(tls.cert);
  expect(leaf.subjectAltName).toContain("DNS:localhost");
  expect(leaf.subjectAltName).toContain("DNS:alice.example");
  expect(leaf.subjectAltName).toContain("IP Address:127.0.0.1");
  expect(leaf.subjectAltName).toContain("IP Address:0:0:0:0:0:0:0:1");
  expect(leaf.checkIssued(new X509Certificate((await loadOrCreateDevCa(home)).cert))).toBe(true);
});

test("a real TLS handshake succeeds with hostname checks against the dev CA", async () => {
  const tls = await serviceTls({ home });
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    tls: { key: tls.key, cert: tls.cert },
    socket: { open(s) { s.write("hi\n"); }, data() {} },
  });
  try {
    const got = await new Promise<string>((resolve, reject) => {
      Bun.connect({
        hostname: "127.0.0.1",
        port: server.port,
        tls: { ca: trustedCas({ home }), serverName: "localhost" },
        socket: {
          data(s, d) { resolve(new TextDecoder().decode(d)); s.end(); },
          handshake(s, ok, err) { if (!ok || err) reject(err ?? new Error("handshake failed")); },
          connectError(_s, err) { reject(err); },
        },
      }).catch(reject);
    });
    expect(got).toBe("hi\n");
  } finally {
    server.stop(true);
  }
});

test("a client that does not trust the dev CA is refused", async () => {
  const tls = await serviceTls({ home });
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, tls: { key: tls.key, cert: tls.cert }, socket: { data() {}, error() {} } });
  try {
    const result = await new Promise<string>((resolve) => {
      Bun.connect({
        hostname: "127.0.0.1",
        port: server.port,
        tls: { serverName: "localhost" },
        socket: {
          data() {},
          handshake(s, ok, err) { resolve(ok && !err ? "trusted" : "refused"); s.end(); },
          close() { resolve("refused"); },
          connectError() { resolve("refused"); },
        },
      }).catch(() => resolve("refused"));
    });
    expect(result).toBe("refused");
  } finally {
    server.stop(true);
  }
});

test("cert without key is a clear error", async () => {
  await expect(serviceTls({ home, certFile: "/x.pem" })).rejects.toThrow("give both --tls-cert and --tls-key");
});
