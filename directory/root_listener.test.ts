import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serviceTls } from "../core/net/tls.ts";
import { dialTls, type RawTlsConn } from "./raw_tls_client.ts";
import type { Registry } from "./registry.ts";
import { openSqliteRegistry } from "./sqlite_registry.ts";
import { listenRoot, ROOT_DEFAULT_LIMITS, ROOT_LINE_LIMIT_BYTES, ROOT_MAX_PENDING_LINES, type RootLimits, type RootListener } from "./root_listener.ts";

const home = mkdtempSync(join(tmpdir(), "inlay-root-"));
const tls = await serviceTls({ home });
const ca = tls.ca!;
let registry: Registry;
const listeners: RootListener[] = [];
const conns: RawTlsConn[] = [];

beforeAll(async () => {
  registry = openSqliteRegistry(join(home, "registry.sqlite"));
  await registry.put("@alice", "alice.example", 6464);
  await registry.put("@bob", "bob.example", 7001);
  await registry.put("@🦄", "unicorn.example", 7002);
});
afterAll(async () => {
  for (const c of conns) c.close();
  for (const l of listeners) l.stop();
  await registry.close();
  rmSync(home, { recursive: true, force: true });
});

/** A listener over the test registry; the miss delay is short so the throttle tests stay fast. */
function start(limits: Partial<RootLimits> = {}): RootListener {
  const l = listenRoot({ host: "127.0.0.1", port: 0, tls, lookup: (k) => registry.lookup(k), limits: { missDelayMs: 50, ...limits } });
  listeners.push(l);
  return l;
}

/** Connects and consumes the `@` prompt. */
async function connect(l: RootListener): Promise<RawTlsConn> {
  const c = await dialTls(l.port, { ca });
  conns.push(c);
  expect(await c.waitFor("@")).toBe("@");
  c.clear();
  return c;
}

/** Sends one request and returns the exact reply bytes (up to and including the next prompt). */
async function ask(c: RawTlsConn, request: string): Promise<string> {
  c.write(request);
  const got = await c.waitFor("\r\n@");
  c.clear();
  return got;
}

describe("root exchange", () => {
  let l: RootListener;
  beforeAll(() => {
    l = start();
  });

  test("the prompt is exactly `@`, sent before any input", async () => {
    const c = await dialTls(l.port, { ca });
    conns.push(c);
    expect(await c.waitFor("@")).toBe("@");
    c.close();
  });

  test("found is host:port CRLF @; several lookups on one connection", async () => {
    const c = await connect(l);
    expect(await ask(c, "alice\n")).toBe("alice.example:6464\r\n@");
    expect(await ask(c, "bob\n")).toBe("bob.example:7001\r\n@");
    expect(await ask(c, "alice\n")).toBe("alice.example:6464\r\n@");
    c.close();
  });

  test("input is trimmed and lower-cased; CRLF, a leading @ and emoji work", async () => {
    const c = await connect(l);
    expect(await ask(c, "ALICE\r\n")).toBe("alice.example:6464\r\n@");
    expect(await ask(c, "  Bob \n")).toBe("bob.example:7001\r\n@");
    expect(await ask(c, "@alice\n")).toBe("alice.example:6464\r\n@");
    expect(await ask(c, "🦄\n")).toBe("unicorn.example:7002\r\n@");
    c.close();
  });

  test("a miss is null CRLF @", async () => {
    const c = await connect(l);
    expect(await ask(c, "nobody\n")).toBe("null\r\n@");
    expect(await ask(c, "alice\n")).toBe("alice.example:6464\r\n@");
    c.close();
  });

  test("a line split across writes is answered once it ends with a newline", async () => {
    const c = await connect(l);
    c.write("al");
    c.write("ic");
    expect(await ask(c, "e\n")).toBe("alice.example:6464\r\n@");
    c.close();
  });

  test("two lines in one write are answered in order", async () => {
    const c = await connect(l);
    c.write("alice\nbob\n");
    expect(await c.waitFor((g) => g.split("\r\n@").length === 3)).toBe("alice.example:6464\r\n@bob.example:7001\r\n@");
    c.close();
  });

  test("twenty lines in one write are all answered", async () => {
    const c = await connect(l);
    c.write("alice\n".repeat(20));
    expect(await c.waitFor((g) => g.split("\r\n@").length === 21)).toBe("alice.example:6464\r\n@".repeat(20));
    c.close();
  });

  test("@exit closes without a reply, in any case, with or without a newline", async () => {
    for (const exit of ["@exit\n", "@EXIT\r\n", "@exit"]) {
      const c = await connect(l);
      expect(await ask(c, "alice\n")).toBe("alice.example:6464\r\n@");
      c.write(exit);
      await c.closed;
      expect(c.received()).toBe("");
    }
  });

  test(`a ${ROOT_LINE_LIMIT_BYTES}-byte line is answered; one byte more closes the connection`, async () => {
    const c = await connect(l);
    expect(await ask(c, "x".repeat(ROOT_LINE_LIMIT_BYTES - 1) + "\n")).toBe("null\r\n@");
    c.write("y".repeat(ROOT_LINE_LIMIT_BYTES) + "\n");
    await c.closed;
    expect(c.received()).toBe("");
    const d = await connect(l);
    d.write("z".repeat(ROOT_LINE_LIMIT_BYTES + 1)); // no newline at all: overflow while accumulating
    await d.closed;
    expect(d.received()).toBe("");
  });
});

describe("not-found throttle", () => {
  test("the reference delay is 3 s", () => {
    expect(ROOT_DEFAULT_LIMITS.missDelayMs).toBe(3_000);
  });

  test("2nd miss is answered after the delay, 3rd closes without a reply; hits stay immediate", async () => {
    const c = await connect(start());
    expect(await ask(c, "nobody1\n")).toBe("null\r\n@");
    expect(await ask(c, "alice\n")).toBe("alice.example:6464\r\n@");
    expect(await ask(c, "nobody2\n")).toBe("null\r\n@");
    c.write("nobody3\n");
    await c.closed;
    expect(c.received()).toBe("");
  });

  test("lines sent while a delayed reply is pending are answered after it, in order", async () => {
    const c = await connect(start());
    expect(await ask(c, "nobody1\n")).toBe("null\r\n@");
    c.write("nobody2\nalice\n");
    expect(await c.waitFor((g) => g.split("\r\n@").length === 3)).toBe("null\r\n@alice.example:6464\r\n@");
    c.close();
  });

  test("a flood of lines behind a delayed reply closes the connection", async () => {
    const l = start({ missDelayMs: 60_000 });
    const c = await connect(l);
    expect(await ask(c, "nobody\n")).toBe("null\r\n@");
    c.write("nobody\n" + "alice\n".repeat(ROOT_MAX_PENDING_LINES + 1));
    await c.closed;
    expect(c.received()).toBe("");
    expect(l.stats().overflows).toBe(1);
  });

  test("a held 2nd miss does not hold other connections", async () => {
    const l = start({ missDelayMs: 60_000 });
    const a = await connect(l);
    expect(await ask(a, "nobody\n")).toBe("null\r\n@");
    a.write("nobody\n");
    const b = await connect(l);
    expect(await ask(b, "nobody\n")).toBe("null\r\n@");
    expect(await ask(b, "alice\n")).toBe("alice.example:6464\r\n@");
    expect(a.received()).toBe("");
    a.close();
    b.close();
  });

  test("misses by reconnecting are throttled per address: a fresh connection over the share waits and hangs up", async () => {
    const l = start({ missesPerAddress: 3 });
    for (let i = 0; i < 3; i++) {
      const c = await connect(l);
      expect(await ask(c, `nobody${i}\n`)).toBe("null\r\n@");
      c.close();
    }
    const c = await connect(l);
    c.write("nobody4\n");
    await c.closed;
    expect(c.received()).toBe("");
    expect(l.stats().throttled).toBe(1);
    // Hits stay answered on a fresh connection from the same address.
    expect(await ask(await connect(l), "alice\n")).toBe("alice.example:6464\r\n@");
  });

  test("the miss share is per prefix too: under the address's share, the /24's share throttles", async () => {
    const l = start({ missesPerAddress: 100, missesPerPrefix: 2 });
    for (let i = 0; i < 2; i++) expect(await ask(await connect(l), "nobody\n")).toBe("null\r\n@");
    const c = await connect(l);
    c.write("nobody\n");
    await c.closed;
    expect(c.received()).toBe("");
  });
});

describe("bounds", () => {
  test("a newcomer over the per-address bound takes the place of that address's oldest connection", async () => {
    const l = start({ maxConnectionsPerIp: 2 });
    const a = await connect(l);
    const b = await connect(l);
    const c = await connect(l);
    await a.closed;
    expect(l.stats().refused).toBe(1);
    expect(await ask(c, "alice\n")).toBe("alice.example:6464\r\n@");
    expect(await ask(b, "bob\n")).toBe("bob.example:7001\r\n@");
    b.close();
    c.close();
  });

  test("the total bound applies across addresses", async () => {
    const l = start({ maxConnections: 1 });
    const a = await connect(l);
    const b = await connect(l);
    await a.closed;
    expect(l.stats().refused).toBe(1);
    expect(await ask(b, "alice\n")).toBe("alice.example:6464\r\n@");
    b.close();
  });

  test("dripping connections in every slot do not stop a lookup; a line must end within its deadline", async () => {
    const l = start({ maxConnections: 8, lineDeadlineMs: 400 });
    const drippers: RawTlsConn[] = [];
    for (let i = 0; i < 8; i++) drippers.push(await connect(l));
    const drip = setInterval(() => {
      for (const d of drippers) if (!d.isClosed()) d.write("x");
    }, 20);
    try {
      const c = await connect(l);
      expect(await ask(c, "alice\n")).toBe("alice.example:6464\r\n@");
      c.close();
      // Bytes keep coming, but no line ends: the deadline closes the rest.
      await Promise.all(drippers.map((d) => d.closed));
      expect(l.stats().timeouts).toBeGreaterThanOrEqual(1);
    } finally {
      clearInterval(drip);
    }
  });

  test("an idle connection is closed at the idle deadline", async () => {
    const l = start({ idleTimeoutMs: 100 });
    const c = await connect(l);
    await c.closed;
    expect(l.stats().timeouts).toBe(1);
  });

  test("a connection that never starts TLS is closed at the handshake deadline", async () => {
    const l = start({ handshakeTimeoutMs: 100 });
    let closed = false;
    const raw = await Bun.connect({ hostname: "127.0.0.1", port: l.port, socket: { data() {}, close() { closed = true; } } });
    const deadline = Date.now() + 5_000;
    while (!closed && Date.now() < deadline) await Bun.sleep(10);
    raw.end();
    expect(closed).toBe(true);
    expect(l.stats().timeouts).toBe(1);
  });

  test("a failing lookup ends that connection only", async () => {
    let fail = true;
    const l = listenRoot({ host: "127.0.0.1", port: 0, tls, lookup: (k) => {
      if (fail) throw new Error("disk gone");
      return registry.lookup(k);
    } });
    listeners.push(l);
    const c = await connect(l);
    c.write("alice\n");
    await c.closed;
    fail = false;
    const d = await connect(l);
    expect(await ask(d, "alice\n")).toBe("alice.example:6464\r\n@");
    d.close();
  });

  test("lookups answered through a promise (a shared store's query) keep pipelined replies in order; a rejection ends that connection", async () => {
    const pending: (() => void)[] = [];
    let reject = false;
    const l = listenRoot({ host: "127.0.0.1", port: 0, tls, lookup: (k) =>
      new Promise((resolve, fail) => pending.push(() => (reject ? fail(new Error("registry gone")) : resolve(registry.lookup(k) as string | null)))),
    });
    listeners.push(l);
    const c = await connect(l);
    c.write("alice\nbob\n");
    while (pending.length < 1) await Bun.sleep(5);
    expect(pending).toHaveLength(1); // bob waits behind alice's query
    pending.shift()!();
    while (pending.length < 1) await Bun.sleep(5);
    pending.shift()!();
    expect(await c.waitFor("bob.example:7001\r\n@")).toBe("alice.example:6464\r\n@bob.example:7001\r\n@");
    reject = true;
    c.write("alice\n");
    while (pending.length < 1) await Bun.sleep(5);
    pending.shift()!();
    await c.closed;
  });
});
