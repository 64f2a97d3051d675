/**
 * Framing and abuse limits over real TLS: the first `@` alone, payload and prompt in one write, `\r\n`,
 * empty lines, pipelining, oversized and malformed input (never a crash or a hang), connection limits, idle
 * timeouts, `@exit`, and a restart that keeps the data.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startServerFixture, type ServerFixture } from "./server_fixture.ts";
import type { WireClient } from "./wire_client.ts";

let f: ServerFixture;
const open: WireClient[] = [];
const connect = async () => {
  const c = await f.connect();
  open.push(c);
  return c;
};

beforeAll(async () => {
  f = await startServerFixture({ limits: { maxLineBytes: 4096, maxConnectionsPerAddress: 6, unauthIdleMs: 1_500 } });
});
afterAll(async () => {
  for (const c of open) c.close();
  await f.stop();
});

/** Opens a TLS socket and resolves with everything the server sent before closing (or after `waitMs`). */
function rawSession(port: number, ca: string, send: string | null, waitMs = 3_000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    let text = "";
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ text, closed });
    };
    const timer = setTimeout(() => {
      finish(false);
      void sock.then((s) => s.end());
    }, waitMs);
    const sock = Bun.connect({
      hostname: "127.0.0.1",
      port,
      tls: { ca, serverName: "localhost" },
      socket: {
        data(s, chunk) {
          text += new TextDecoder().decode(chunk);
          if (send !== null && text === "@") s.write(send);
        },
        close: () => finish(true),
        error() {},
      },
    });
  });
}

describe("framing", () => {
  test("the first @ is its own write; each answer is payload and prompt in one chunk", async () => {
    const c = await connect();
    expect(c.chunks[0]).toBe("@");
    const before = c.chunks.length;
    await c.send("info:brief");
    expect(c.chunks.length).toBe(before + 1);
    expect(c.chunks[before]).toMatch(/^data:\{.*\}\n@$/);
  });

  test("\\r\\n requests, a bare empty line gets a prompt, pipelined lines are answered in order", async () => {
    const c = await connect();
    expect(await c.send("noop:0\r")).toBe("data:ok");
    c.raw("\n");
    await c.until((r) => r === "@");
    const text = await (async () => {
      c.raw("noop:1\ninfo:brief\nnoop:0\n");
      return c.until((r) => (r.match(/\n@/g) ?? []).length >= 3);
    })();
    const answers = text.slice(1).split("\n@").filter(Boolean);
    expect(answers[0]).toBe("data:ok");
    expect(answers[1]).toStartWith("data:{");
    expect(answers[2]).toBe("data:ok");
  });

  test("@exit closes the connection", async () => {
    const c = await connect();
    c.raw("@exit\n");
    await c.closed;
    expect(c.isClosed()).toBe(true);
  });
});

describe("malformed and oversized input", () => {
  test("garbage, binary and invalid UTF-8 get AT0003 and the connection survives", async () => {
    const c = await connect();
    for (const junk of ["::::", "update:", "lookup:", "from:", "\u0000\u0001\u0002", "scan:showhidden:maybe", "sync:from:x:limit:1", "stats:0"]) {
      expect(await c.send(junk)).toStartWith("error:AT0003-");
    }
    c.raw(new Uint8Array([0xff, 0xfe, 0xc3, 0x28, 10]));
    await c.until((r) => r.endsWith("\n@"));
    expect(await c.send("noop:0")).toBe("data:ok");
  });

  test("a line over the limit is AT0005 and the connection closes; the server keeps serving", async () => {
    const r = await rawSession(f.server.port, f.ca, "x".repeat(5000));
    expect(r.text).toStartWith("@error:AT0005-");
    expect(r.closed).toBe(true);
    const c = await connect();
    expect(await c.send("noop:0")).toBe("data:ok");
  });

  test("a client that closes mid-line or mid-handshake does not disturb others", async () => {
    const half = await connect();
    half.raw("update:half");
    half.close();
    await half.closed;
    const c = await connect();
    expect(await c.send("noop:0")).toBe("data:ok");
  });
});

describe("connection limits and timeouts", () => {
  test("beyond the per-address limit: error:AT0012 without prompt, then close", async () => {
    const extra: WireClient[] = [];
    // Fill up to the limit (6), counting the ones this file already holds open.
    const openNow = () => open.filter((c) => !c.isClosed()).length + extra.length;
    while (openNow() < 6) extra.push(await f.connect());
    const r = await rawSession(f.server.port, f.ca, null);
    expect(r.text).toBe("error:AT0012-Inbound connection limit exceeded\n");
    expect(r.closed).toBe(true);
    for (const c of extra) {
      c.close();
      await c.closed;
    }
  });

  test("an idle unauthenticated connection is closed", async () => {
    const c = await connect();
    await c.closed;
    expect(c.isClosed()).toBe(true);
  });
});

describe("slow and half-open peers (issue 13)", () => {
  /** Strangers that got their prompt and then drip one byte at a time, never finishing a line. */
  async function drippers(target: ServerFixture, n: number): Promise<{ clients: WireClient[]; stop(): void }> {
    const clients: WireClient[] = [];
    for (let i = 0; i < n; i++) clients.push(await target.connect());
    const timer = setInterval(() => {
      for (const c of clients) if (!c.isClosed()) c.raw("x");
    }, 20);
    return {
      clients,
      stop() {
        clearInterval(timer);
        for (const c of clients) c.close();
      },
    };
  }

  test("dripping strangers filling every slot do not lock the owner out; the owner is answered", async () => {
    const g = await startServerFixture({ limits: { maxConnections: 12, unauthShare: 2 / 3, maxUnauthPerAddress: 8 } });
    const drip = await drippers(g, 12);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const o = await g.connectOwner();
        expect(await o.send("update:public:k.slow@alice v")).toMatch(/^data:\d+$/);
        expect(await o.send("llookup:public:k.slow@alice")).toBe("data:v");
        o.close();
      }
      // The strangers that made room were told why, in the reference's limit form.
      const evicted = drip.clients.filter((c) => c.isClosed());
      expect(evicted.length).toBeGreaterThanOrEqual(4);
      expect(evicted[0]!.chunks.join("")).toContain("error:AT0012-Inbound connection limit exceeded");
    } finally {
      drip.stop();
      await g.stop();
    }
  });

  test("an address that keeps evicting its own strangers has its newcomers closed before the handshake", async () => {
    const g = await startServerFixture({ limits: { maxUnauthPerAddress: 2, maxUnauthChurnPerPrefix: 1 } });
    try {
      const [a, b] = [await g.connect(), await g.connect()];
      const c = await g.connect(); // evicts a: the prefix's one eviction of this window
      await a.closed;
      await expect(g.connect()).rejects.toThrow(/closed/);
      // With room again (b left), a newcomer needs no eviction and is admitted.
      b.close();
      const o = await g.connectOwner();
      expect(await o.send("noop:0")).toBe("data:ok");
      o.close();
      c.close();
    } finally {
      await g.stop();
    }
  });

  test("a line that does not end within its deadline closes the connection, however often bytes come", async () => {
    const g = await startServerFixture({ limits: { unauthLineDeadlineMs: 300 } });
    const drip = await drippers(g, 1);
    try {
      const c = drip.clients[0]!;
      await Promise.race([c.closed, Bun.sleep(8_000)]);
      expect(c.isClosed()).toBe(true);
      expect(c.chunks.join("")).toContain("error:AT0013-Exception: Connection Exception: request not completed within 300 ms");
    } finally {
      drip.stop();
      await g.stop();
    }
  });

  test("a connection that never starts TLS is closed at the handshake deadline", async () => {
    const g = await startServerFixture({ limits: { handshakeTimeoutMs: 200 } });
    let closed = false;
    const raw = await Bun.connect({ hostname: "127.0.0.1", port: g.server.port, socket: { data() {}, close: () => void (closed = true) } });
    try {
      const end = Date.now() + 8_000;
      while (!closed && Date.now() < end) await Bun.sleep(20);
      expect(closed).toBe(true);
    } finally {
      raw.end();
      await g.stop();
    }
  });
});

describe("restart", () => {
  test("data written before a restart is there after it", async () => {
    const o = await f.connectOwner();
    const id = await o.send("update:ttr:-1:persist.me@alice still-here");
    o.close();
    await f.restart();
    const p = await f.connectOwner();
    expect(await p.send("llookup:persist.me@alice")).toBe("data:still-here");
    const next = await p.send("update:after.restart@alice v");
    expect(Number(next.slice(5))).toBeGreaterThan(Number(id.slice(5)));
    p.close();
  });
});
