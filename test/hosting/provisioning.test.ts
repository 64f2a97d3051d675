/**
 * The provisioning API of a hosting process over real HTTP, its tenants over real TLS and sqlite: create (CRAM
 * secret, directory entry), list (paged), status, reset, export and import, delete; an idle store is closed and
 * opened again on the next connection with its data; the LRU bound closes the least recently used idle store.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { closeIdle } from "../../server/hosting/tenant_pool.ts";
import { eventually } from "../notify/helpers.ts";
import { cramAuth } from "../server_fixture.ts";
import { connectWire } from "../wire_client.ts";
import { startHostingFixture, type Created, type HostingFixture } from "./hosting_fixture.ts";

let f: HostingFixture;

beforeAll(async () => {
  f = await startHostingFixture({ limits: { idleCloseMs: 100, maxOpenStores: 2 } });
});
afterAll(async () => {
  await f.stop();
});

const directoryEntry = async (atSign: string) => {
  const res = await fetch(`${f.stack.directory.adminUrl}/v1/atsigns/${encodeURIComponent(atSign)}`, { headers: { authorization: `Bearer ${f.stack.directory.token}` } });
  return { status: res.status, body: (await res.json()) as any };
};
const status = async (atSign: string) => (await f.api("GET", `/v1/tenants/${encodeURIComponent(atSign)}`)).body;

test("create returns a CRAM secret and registers the @sign in the directory; refusals are precise", async () => {
  const a = await f.create("@hosta");
  expect(a).toMatchObject({ atSign: "@hosta", host: "127.0.0.1" });
  expect(a.cramSecret).toMatch(/^[0-9a-f]{64,}$/);
  expect((await directoryEntry("@hosta")).body).toEqual({ atSign: "@hosta", host: "127.0.0.1", port: a.port });
  expect(statSync(join(f.dir, "admin.token")).mode & 0o777).toBe(0o600);

  expect(await f.api("POST", "/v1/tenants", { atSign: "@hosta" })).toMatchObject({ status: 409, body: { error: expect.stringContaining("already hosted") } });
  expect(await f.api("POST", "/v1/tenants", { atSign: "no good" })).toMatchObject({ status: 400 });
  expect(await f.api("POST", "/v1/tenants", { atSign: "@x", extra: 1 })).toMatchObject({ status: 400, body: { error: "unknown field(s): extra" } });
  expect(await f.api("POST", "/v1/tenants", "{not json")).toMatchObject({ status: 400, body: { error: "body must be valid JSON" } });
  const anonymous = await fetch(f.hosting.api.url + "/v1/tenants");
  expect(anonymous.status).toBe(401);
  expect(await f.api("GET", "/v1/tenants/@nobody")).toMatchObject({ status: 404 });
});

test("list is paged in @sign order", async () => {
  await f.create("@hostb");
  const first = await f.api("GET", "/v1/tenants?limit=1");
  expect(first.body.items.map((i: Created) => i.atSign)).toEqual(["@hosta"]);
  expect(first.body.next).toBe("@hosta");
  const second = await f.api("GET", `/v1/tenants?limit=1&after=${encodeURIComponent(first.body.next)}`);
  expect(second.body.items.map((i: Created) => i.atSign)).toEqual(["@hostb"]);
  expect((await f.api("GET", "/v1/tenants?limit=5000")).status).toBe(400);
});

test("an idle store closes and opens again on the next connection, with its data", async () => {
  const t = await f.create("@idle");
  const c = await f.owner(t);
  expect(await c.send("update:@idle:kept.app@idle the value")).toMatch(/^data:\d+$/);
  expect(await status("@idle")).toMatchObject({ open: true, connections: 1, onboarded: false });
  c.close();
  await eventually(async () => (await status("@idle")).open === false);
  const again = await f.owner(t);
  expect(await again.send("llookup:@idle:kept.app@idle")).toBe("data:the value");
  expect((await status("@idle")).storageBytes).toBeGreaterThan(0);
  again.close();
});

test("past maxOpenStores the least recently used idle store is closed; a busy one is not", async () => {
  const g = await startHostingFixture({ limits: { idleCloseMs: 3_600_000, maxOpenStores: 1 } });
  try {
    const statusIn = async (atSign: string) => (await g.api("GET", `/v1/tenants/${atSign}`)).body;
    const x = await g.create("@lrux");
    const cx = await g.owner(x);
    expect(await cx.send("update:@lrux:k.app@lrux vx")).toMatch(/^data:/);
    // @lrux is busy: @lruy opens past the bound rather than waiting.
    const y = await g.create("@lruy");
    expect([(await statusIn("@lrux")).open, (await statusIn("@lruy")).open]).toEqual([true, true]);
    cx.close();
    await eventually(async () => (await statusIn("@lrux")).connections === 0);
    // Under the bound again only once one is idle: both stay open while each has a connection.
    const cy = await g.owner(y);
    expect(await cy.send("llookup:@lruy:nothing@lruy")).toStartWith("error:AT0015");
    const again = await g.owner(x);
    expect(await again.send("llookup:@lrux:k.app@lrux")).toBe("data:vx");
    expect([(await statusIn("@lrux")).open, (await statusIn("@lruy")).open]).toEqual([true, true]);
    cy.close();
    await eventually(async () => (await statusIn("@lruy")).connections === 0);
    await g.create("@lruz");
    expect((await statusIn("@lruy")).open).toBe(false);
    expect((await statusIn("@lrux")).open).toBe(true);
    again.close();
  } finally {
    await g.stop();
  }
});

test("export then delete then import moves an @sign with its keys and CRAM secret", async () => {
  const t = await f.create("@mover");
  const c = await f.owner(t);
  expect(await c.send("update:@mover:moved.app@mover payload")).toMatch(/^data:/);
  c.close();
  const exported = await f.api("GET", "/v1/tenants/@mover/export");
  expect(exported.status).toBe(200);
  expect(exported.body).toMatchObject({ format: "inlay-tenant-v1", atSign: "@mover" });

  expect(await f.api("DELETE", "/v1/tenants/@mover")).toEqual({ status: 200, body: { deleted: true } });
  expect((await directoryEntry("@mover")).status).toBe(404);
  expect(existsSync(join(f.dir, "tenants", "@mover"))).toBe(false);
  await expect(connectWire(t.port, f.stack.ca)).rejects.toThrow();

  expect(await f.api("POST", "/v1/tenants/import?port=x", exported.body)).toMatchObject({ status: 400 });
  expect(await f.api("POST", "/v1/tenants/import", { ...exported.body, files: { "../evil": "AAAA" } })).toMatchObject({ status: 400 });
  const imported = await f.api("POST", "/v1/tenants/import", exported.body);
  expect(imported.status).toBe(201);
  expect((await directoryEntry("@mover")).body.port).toBe(imported.body.port);
  const back = await f.owner({ ...t, port: imported.body.port });
  expect(await back.send("llookup:@mover:moved.app@mover")).toBe("data:payload");
  back.close();
  expect(await f.api("POST", "/v1/tenants/import", exported.body)).toMatchObject({ status: 409 });
});

test("reset closes the @sign's connections, wipes its keys and issues a new CRAM secret", async () => {
  const t = await f.create("@lost");
  const c = await f.owner(t);
  expect(await c.send("update:@lost:gone.app@lost v")).toMatch(/^data:/);
  const reset = await f.api("POST", "/v1/tenants/@lost/reset");
  expect(reset.status).toBe(200);
  expect(reset.body.cramSecret).not.toBe(t.cramSecret);
  await eventually(() => c.isClosed());
  const old = await connectWire(t.port, f.stack.ca);
  expect(await cramAuth(old, "@lost", t.cramSecret)).toStartWith("error:AT0401");
  old.close();
  const fresh = await f.owner({ ...t, cramSecret: reset.body.cramSecret });
  expect(await fresh.send("llookup:@lost:gone.app@lost")).toStartWith("error:AT0015");
  fresh.close();
});

test("/metrics sums every tenant in one record (token needed), /healthz counts them", async () => {
  const anonymous = await fetch(f.hosting.api.url + "/metrics");
  expect(anonymous.status).toBe(401);
  const res = await fetch(f.hosting.api.url + "/metrics", { headers: { authorization: `Bearer ${f.hosting.api.token}` } });
  const text = await res.text();
  expect(text).toMatch(/^inlay_server_connections_total \d+$/m);
  expect(Number(/^inlay_server_connections_total (\d+)$/m.exec(text)![1])).toBeGreaterThan(0);
  expect(text).not.toContain("@hosta");
  const health = (await (await fetch(f.hosting.api.url + "/healthz")).json()) as { ok: boolean; tenants: number };
  expect(health).toMatchObject({ ok: true, tenants: f.hosting.hosting.pool.tenants.size });
});

test("a restart serves every tenant again on its port", async () => {
  const t = await f.create("@restarted");
  const c = await f.owner(t);
  expect(await c.send("update:@restarted:r.app@restarted still here")).toMatch(/^data:/);
  c.close();
  await f.restart();
  const again = await f.owner(t);
  expect(await again.send("llookup:@restarted:r.app@restarted")).toBe("data:still here");
  again.close();
});

test("an @sign with notifications to deliver stays open while idle, and is opened at start to deliver them", async () => {
  const g = await startHostingFixture({ limits: { idleCloseMs: 100 }, notify: { delivery: { quarantineBaseMs: 50, quarantineMaxMs: 200, pollMs: 200 } } });
  try {
    const statusIn = async (atSign: string) => (await g.api("GET", `/v1/tenants/${atSign}`)).body;
    const q = await g.create("@queued");
    const c = await g.owner(q);
    // @later is not hosted (nor in the directory) yet: the notification waits in @queued's queue.
    expect(await c.send("notify:id:wait-1:update:@later:w.app@queued:v")).toBe("data:wait-1");
    c.close();
    await eventually(async () => (await statusIn("@queued")).connections === 0);
    closeIdle(g.hosting.hosting.pool, Date.now() + 3_600_000);
    expect((await statusIn("@queued")).open).toBe(true);

    await g.restart();
    await eventually(async () => (await statusIn("@queued")).open === true);
    const later = await g.create("@later");
    const l = await g.owner(later);
    await eventually(async () => (await l.send("notify:list")).includes("wait-1"));
    l.close();
  } finally {
    await g.stop();
  }
});

test("past maxOpenStoresHard a connection to a closed @sign is answered AT0012 and the connection survives", async () => {
  const g = await startHostingFixture({ limits: { idleCloseMs: 3_600_000, maxOpenStores: 1, maxOpenStoresHard: 2 } });
  try {
    const [x, y, w] = [await g.create("@hardx"), await g.create("@hardy"), await g.create("@hardw")];
    const held = [await g.owner(x), await g.owner(y)];
    const cold = await connectWire(w.port, g.stack.ca);
    expect(await cold.send("from:@hardw")).toStartWith("error:AT0012");
    expect(cold.isClosed()).toBe(false);
    // A create opens the new store once to make its keys: refused too while both are busy, and nothing is left.
    expect(await g.api("POST", "/v1/tenants", { atSign: "@hardz" })).toMatchObject({ status: 503, body: { error: expect.stringContaining("busy") } });
    expect((await g.api("GET", "/v1/tenants/@hardz")).status).toBe(404);
    held[1]!.close();
    await eventually(async () => (await g.api("GET", "/v1/tenants/@hardy")).body.connections === 0);
    expect(await cold.send("from:@hardw")).toStartWith("data:");
    cold.close();
    held[0]!.close();
  } finally {
    await g.stop();
  }
});
