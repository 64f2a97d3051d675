/**
 * The atServer's admin port (/metrics, /healthz, /readyz), driven by real traffic against real servers: auth
 * failures and successes, verbs answered and refused, a notification to a server that is down (postponed,
 * quarantined) and then up again (delivered over an outbound session), the expiry sweeper, a refused
 * connection. Every exposition goes through a strict Prometheus text parser.
 */
import { afterAll, beforeAll, expect, spyOn, test } from "bun:test";
import { join } from "node:path";
import { setLogLevel } from "../core/log.ts";
import { serviceTls } from "../core/net/tls.ts";
import { startServer, type RunningServer } from "../server/index.ts";
import { startStack, STACK_HOST, type Stack } from "./harness.ts";
import { eventually } from "./notify/helpers.ts";
import { sampleValue, scrape, type Family } from "./prometheus_text.ts";
import { cramAuth } from "./server_fixture.ts";
import { connectWire, type WireClient } from "./wire_client.ts";

const UNAUTH_LINE_MAX = 1024;
let stack: Stack;
let alice: RunningServer;
const clients: WireClient[] = [];

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@bob"] });
  const tls = await serviceTls({ home: stack.home });
  alice = await startServer({
    atSign: "@alice",
    host: STACK_HOST,
    port: 0,
    publicHost: STACK_HOST,
    dataDir: join(stack.home, "servers", "@alice"),
    tls: { key: tls.key, cert: tls.cert },
    directory: { host: stack.directory.host, port: stack.directory.port, ca: [stack.ca] },
    directoryAdmin: { url: stack.directory.adminUrl, token: stack.directory.token },
    notify: { delivery: { retryBaseMs: 20, quarantineBaseMs: 20, quarantineMaxMs: 100, pollMs: 100 } },
    limits: { maxUnauthLineBytes: UNAUTH_LINE_MAX },
    admin: { port: 0 },
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await alice.stop();
  await stack.stop();
});

const metrics = () => scrape(`${alice.admin!.url}/metrics`, alice.admin!.token);
const connect = async () => {
  const c = await connectWire(alice.port, stack.ca);
  clients.push(c);
  return c;
};
const owner = async () => {
  const c = await connect();
  expect(await cramAuth(c, "@alice", alice.cramSecret)).toBe("data:success");
  return c;
};
/** How much each series moved between two scrapes. */
const delta = (before: Map<string, Family>, after: Map<string, Family>) => (name: string, labels: Record<string, string> = {}) =>
  sampleValue(after, name, labels) - sampleValue(before, name, labels);

test("the admin port: token on /metrics, open probes, loopback, 404 elsewhere", async () => {
  expect(alice.admin!.url).toStartWith("http://127.0.0.1:");
  expect((await fetch(`${alice.admin!.url}/metrics`)).status).toBe(401);
  expect(await (await fetch(`${alice.admin!.url}/healthz`)).json()).toEqual({ ok: true, atSign: "@alice" });
  const ready = await fetch(`${alice.admin!.url}/readyz`);
  expect([ready.status, await ready.json()]).toEqual([200, { ready: true }]);
  expect((await fetch(`${alice.admin!.url}/v1/anything`)).status).toBe(404);
});

test("auth attempts by method and result, connections by kind, verbs by name and result", async () => {
  const before = await metrics();
  const stranger = await connect();
  await stranger.send("from:@alice");
  expect(await stranger.send(`cram:${"0".repeat(128)}`)).toStartWith("error:AT0401");
  expect(await stranger.send("update:public:phone@alice 123")).toStartWith("error:AT0401");
  expect(await stranger.send("nonsense")).toStartWith("error:");
  const o = await owner();
  expect(await o.send("update:public:phone@alice secretvalue")).toMatch(/^data:\d+$/);
  expect(await o.send("llookup:public:phone@alice")).toBe("data:secretvalue");
  expect(await o.send("llookup:public:nothere@alice")).toStartWith("error:AT0015");

  const during = await metrics();
  expect(sampleValue(during, "inlay_server_connections", { kind: "owner" })).toBeGreaterThanOrEqual(1);
  expect(sampleValue(during, "inlay_server_connections", { kind: "unauthenticated" })).toBeGreaterThanOrEqual(1);
  const moved = delta(before, during);
  expect(moved("inlay_server_auth_attempts_total", { method: "cram", result: "failed" })).toBe(1);
  expect(moved("inlay_server_auth_attempts_total", { method: "cram", result: "ok" })).toBe(1);
  expect(moved("inlay_server_commands_total", { verb: "update", result: "AT0401" })).toBe(1);
  expect(moved("inlay_server_commands_total", { verb: "update", result: "ok" })).toBe(1);
  expect(moved("inlay_server_commands_total", { verb: "llookup", result: "ok" })).toBe(1);
  expect(moved("inlay_server_commands_total", { verb: "llookup", result: "AT0015" })).toBe(1);
  expect(moved("inlay_server_commands_total", { verb: "invalid", result: "AT0003" })).toBe(1);
  expect(moved("inlay_server_commands_total", { verb: "from", result: "ok" })).toBe(2);
  expect(moved("inlay_server_command_duration_seconds_count", { verb: "llookup" })).toBe(2);
  expect(moved("inlay_server_connections_total")).toBe(2);
  expect(sampleValue(during, "inlay_server_keystore_bytes")).toBeGreaterThan(0);
});

test("a notification to a server that is down is postponed and quarantined, then delivered over a session; logs name no @sign or key", async () => {
  const lines: string[] = [];
  const logged = spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)));
  setLogLevel("debug");
  try {
    await undeliverableThenDelivered();
  } finally {
    setLogLevel("warn");
    logged.mockRestore();
  }
  expect(lines.some((l) => l.includes("recipient unreachable"))).toBe(true);
  // The directory's own lines name what it publishes anyway (registrations); the atServer's must not.
  const serverLines = lines.filter((l) => !l.includes('"part":"directory"'));
  expect(serverLines.filter((l) => /@bob|phone|metrics-down/.test(l))).toEqual([]);
});

async function undeliverableThenDelivered(): Promise<void> {
  const o = await owner();
  await stack.servers.get("@bob")!.stop();
  const before = await metrics();
  expect(await o.send("notify:id:metrics-down:@bob:phone@alice:v")).toBe("data:metrics-down");
  await eventually(async () => {
    const m = delta(before, await metrics());
    return m("inlay_server_notifications_total", { event: "quarantined" }) >= 1 && m("inlay_server_notifications_total", { event: "retried" }) >= 1;
  });
  const waiting = await metrics();
  expect(delta(before, waiting)("inlay_server_notifications_total", { event: "queued" })).toBe(1);
  expect(sampleValue(waiting, "inlay_server_notification_queue_depth")).toBe(1);
  expect(delta(before, waiting)("inlay_server_outbound_sessions_total", { result: "failed" })).toBeGreaterThanOrEqual(1);

  await stack.addServer("@bob");
  await eventually(async () => delta(before, await metrics())("inlay_server_notifications_total", { event: "delivered" }) === 1);
  const after = await metrics();
  expect(sampleValue(after, "inlay_server_notification_queue_depth")).toBe(0);
  expect(sampleValue(after, "inlay_server_outbound_sessions")).toBe(1);
  expect(delta(before, after)("inlay_server_outbound_sessions_total", { result: "opened" })).toBe(1);
  expect(delta(before, after)("inlay_server_notifications_total", { event: "errored" })).toBe(0);
}

test("the expiry sweeper's work and a refused connection are counted", async () => {
  const before = await metrics();
  const o = await owner();
  expect(await o.send("update:ttl:1:public:brief@alice x")).toMatch(/^data:\d+$/);
  await eventually(async () => delta(before, await metrics())("inlay_server_expiry_sweeper_total", { work: "removed" }) >= 1);

  const c = await connect();
  c.raw("x".repeat(UNAUTH_LINE_MAX + 10));
  await c.closed;
  expect(delta(before, await metrics())("inlay_server_connections_refused_total", { reason: "line_too_long" })).toBe(1);
});

test("no series names a key, a value or another @sign", async () => {
  const text = await (await fetch(`${alice.admin!.url}/metrics`, { headers: { authorization: `Bearer ${alice.admin!.token}` } })).text();
  expect(text).not.toMatch(/phone|secretvalue|brief|@bob|@alice|metrics-down/);
});
