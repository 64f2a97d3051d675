/**
 * The directory's /metrics, /healthz, /readyz on its admin API, driven by real root lookups over TLS and real
 * admin calls, read back through a strict Prometheus text parser.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serviceTls } from "../core/net/tls.ts";
import { startDirectory, type Directory } from "../directory/index.ts";
import { dialTls, type RawTlsConn } from "../directory/raw_tls_client.ts";
import { sampleValue, scrape } from "./prometheus_text.ts";

const home = mkdtempSync(join(tmpdir(), "inlay-dir-metrics-"));
let dir: Directory;
let ca: string;

beforeAll(async () => {
  const tls = await serviceTls({ home });
  ca = tls.ca!;
  dir = await startDirectory({ port: 0, adminPort: 0, dataDir: join(home, "dir"), tls, limits: { missDelayMs: 5 } });
});
afterAll(async () => {
  await dir.stop();
  rmSync(home, { recursive: true, force: true });
});

const admin = (path: string, init: RequestInit = {}, token = dir.token) =>
  fetch(dir.adminUrl + path, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" } });

async function rootConnection(): Promise<RawTlsConn> {
  const c = await dialTls(dir.port, { ca });
  await c.waitFor("@");
  c.clear();
  return c;
}

test("/metrics needs the token; /healthz and /readyz do not", async () => {
  expect((await fetch(`${dir.adminUrl}/metrics`)).status).toBe(401);
  expect((await admin("/metrics", {}, "wrong")).status).toBe(401);
  expect(await (await fetch(`${dir.adminUrl}/healthz`)).json()).toMatchObject({ ok: true });
  const ready = await fetch(`${dir.adminUrl}/readyz`);
  expect([ready.status, await ready.json()]).toEqual([200, { ready: true }]);
});

test("lookups found / not found / throttled, the latency histogram, connections by state, registry size, admin calls", async () => {
  const before = await scrape(`${dir.adminUrl}/metrics`, dir.token);
  expect((await admin("/v1/atsigns/@metrics1", { method: "PUT", body: JSON.stringify({ host: "h.example", port: 7000 }) })).status).toBe(200);
  expect((await admin("/v1/atsigns/@nobody")).status).toBe(404);
  expect((await admin("/v1/atsigns", {}, "wrong")).status).toBe(401);
  expect((await admin("/v1/atsigns/@metrics1", { method: "PUT", body: "{" })).status).toBe(400);

  const c = await rootConnection();
  c.write("metrics1\n");
  expect(await c.waitFor("\r\n@")).toBe("h.example:7000\r\n@");
  c.clear();
  c.write("missing1\n");
  await c.waitFor("null\r\n@");
  c.clear();
  c.write("missing2\n"); // the second miss on a connection is the reference's throttle
  await c.waitFor("null\r\n@");
  const open = await scrape(`${dir.adminUrl}/metrics`, dir.token);
  expect(sampleValue(open, "inlay_directory_connections", { state: "ready" })).toBeGreaterThanOrEqual(1);
  c.close();
  await c.closed;

  const after = await scrape(`${dir.adminUrl}/metrics`, dir.token);
  const moved = (name: string, labels: Record<string, string> = {}) => sampleValue(after, name, labels) - sampleValue(before, name, labels);
  expect(moved("inlay_directory_lookups_total", { result: "found" })).toBe(1);
  expect(moved("inlay_directory_lookups_total", { result: "not_found" })).toBe(1);
  expect(moved("inlay_directory_lookups_total", { result: "throttled" })).toBe(1);
  expect(moved("inlay_directory_lookups_total", { result: "error" })).toBe(0);
  expect(moved("inlay_directory_lookup_duration_seconds_count")).toBe(3);
  expect(moved("inlay_directory_connections_total")).toBe(1);
  expect(sampleValue(after, "inlay_directory_registered_atsigns")).toBe(1);
  expect(moved("inlay_directory_admin_requests_total", { operation: "register", result: "ok" })).toBe(1);
  expect(moved("inlay_directory_admin_requests_total", { operation: "register", result: "bad_request" })).toBe(1);
  expect(moved("inlay_directory_admin_requests_total", { operation: "read", result: "not_found" })).toBe(1);
  expect(moved("inlay_directory_admin_requests_total", { operation: "list", result: "unauthorized" })).toBe(1);
});

test("no series carries an @sign or a host", async () => {
  const text = await (await admin("/metrics")).text();
  expect(text).not.toMatch(/metrics1|missing|h\.example/);
});
