import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { serviceTls, trustedCas } from "./tls.ts";
import { LEAF_RENEW_DAYS, LEAF_VALIDITY_DAYS, loadOrCreateDevCa, loadOrIssueLeaf } from "../crypto/dev_ca.ts";

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

test("a leaf is kept (0600) and used again by the next start with the same names; other names get their own", async () => {
  const h = mkdtempSync(join(tmpdir(), "inlay-leaf-"));
  try {
    const first = await serviceTls({ home: h, hosts: ["bob.example"] });
    const again = await serviceTls({ home: h, hosts: ["bob.example"] });
    expect(again.cert).toBe(first.cert);
    expect(again.key).toBe(first.key);
    const files = readdirSync(join(h, "ca", "leaves"));
    expect(files).toHaveLength(1);
    expect(statSync(join(h, "ca", "leaves", files[0]!)).mode & 0o777).toBe(0o600);
    const other = await serviceTls({ home: h, hosts: ["carol.example"] });
    expect(other.cert).not.toBe(first.cert);
    expect(new X509Certificate(other.cert).subjectAltName).toContain("DNS:carol.example");
  } finally {
    rmSync(h, { recursive: true, force: true });
  }
});

test("a kept leaf near its end, one from another CA, or an unreadable file is replaced", async () => {
  const h = mkdtempSync(join(tmpdir(), "inlay-leaf-"));
  try {
    const ca = await loadOrCreateDevCa(h);
    const first = await loadOrIssueLeaf(h, ca, ["localhost"]);
    const dayMs = 86_400_000;
    expect((await loadOrIssueLeaf(h, ca, ["localhost"], Date.now() + (LEAF_VALIDITY_DAYS - LEAF_RENEW_DAYS - 2) * dayMs)).cert).toBe(first.cert);
    const renewed = await loadOrIssueLeaf(h, ca, ["localhost"], Date.now() + (LEAF_VALIDITY_DAYS - LEAF_RENEW_DAYS + 2) * dayMs);
    expect(renewed.cert).not.toBe(first.cert);
    const otherHome = mkdtempSync(join(tmpdir(), "inlay-leaf-ca-"));
    const otherCa = await loadOrCreateDevCa(otherHome);
    rmSync(otherHome, { recursive: true, force: true });
    const fromOther = await loadOrIssueLeaf(h, otherCa, ["localhost"]);
    expect(new X509Certificate(fromOther.cert).checkIssued(new X509Certificate(otherCa.cert))).toBe(true);
    for (const f of readdirSync(join(h, "ca", "leaves"))) writeFileSync(join(h, "ca", "leaves", f), "not a certificate");
    const fresh = await loadOrIssueLeaf(h, ca, ["localhost"]);
    expect(fresh.cert).not.toBe(renewed.cert);
    expect(new X509Certificate(fresh.cert).checkIssued(new X509Certificate(ca.cert))).toBe(true);
  } finally {
    rmSync(h, { recursive: true, force: true });
  }
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
