/**
 * HTTP on the atProtocol port (the reference's docs/http-interface.md), over real TLS against a real server:
 * ALPN `http/1.1` from Bun's fetch, curl and node:tls reads the @sign's public records; everything else is a
 * 404; malformed, oversized and slow requests get their 4xx and the close; atProtocol clients on the same port
 * (no ALPN, or `atProtocol/1.0`) are served as before.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { startServerFixture, type ServerFixture } from "./server_fixture.ts";
import { ANSWER_TIMEOUT_MS } from "./wire_client.ts";
import { apkamKeys, connectApkam, dataJson, enrollLine, onboardManager } from "./enroll/wire_enroll.ts";

let f: ServerFixture;
let caFile: string;
const base = () => `https://127.0.0.1:${f.server.port}`;
const get = (path: string, init: RequestInit = {}) => fetch(`${base()}${path}`, { ...init, tls: { ca: f.ca, serverName: "localhost" } } as RequestInit);

interface RawResult {
  protocol: string | false | null;
  received: string;
}

/**
 * Sends `bytes` on a TLS connection that offers `alpn`, and resolves with everything the server sent once it
 * closed (the deadline only bounds a broken run). `secured` resolves when the handshake is done.
 */
function openTls(port: number, ca: string, alpn: string[], bytes: string): { secured: Promise<void>; done: Promise<RawResult> } {
  let onSecured!: () => void;
  const secured = new Promise<void>((r) => (onSecured = r));
  const done = new Promise<RawResult>((resolve, reject) => {
    let received = "";
    const s = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost", ALPNProtocols: alpn }, () => {
      onSecured();
      if (bytes !== "") s.write(bytes);
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no close; received ${JSON.stringify(received.slice(0, 300))}`));
    }, ANSWER_TIMEOUT_MS);
    s.on("data", (d) => (received += d.toString("utf8")));
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(timer);
      resolve({ protocol: s.alpnProtocol ?? null, received });
    });
  });
  return { secured, done };
}

const rawTls = (port: number, ca: string, alpn: string[], bytes: string) => openTls(port, ca, alpn, bytes).done;

const statusOf = (received: string) => Number(/^HTTP\/1\.1 (\d{3}) /.exec(received)?.[1] ?? 0);

beforeAll(async () => {
  f = await startServerFixture();
  caFile = join(f.home, "ca.pem");
  writeFileSync(caFile, f.ca);
  const owner = await f.connectOwner();
  for (const line of [
    "update:public:location.wavi@alice hello",
    "update:public:index.html.demo@alice <p>hi</p>",
    "update:public:_hidden.wavi@alice h",
    "update:phone.wavi@alice self-only",
    "update:@bob:phone.wavi@alice for-bob",
    // "Base2e15 is awesome!" in Base2e15 (its README's example).
    "update:isBinary:true:public:logo.png@alice 嗺둽嬖蟝巍媖疌켉溁닽壪",
  ]) {
    expect(await owner.send(line)).toMatch(/^data:-?\d+$/);
  }
  owner.close();
});
afterAll(async () => {
  await f.stop();
});

describe("GET of public records", () => {
  test("a path names the public key (reversed segments, @sign and public: stripped)", async () => {
    for (const path of ["/location.wavi", "/wavi/location", "/@alice/wavi/location", "/public:location.wavi@alice", "//Location.Wavi"]) {
      const r = await get(path);
      expect([path, r.status, await r.text()]).toEqual([path, 200, "hello"]);
      expect(r.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    }
  });
  test("the media type follows the key's pseudo file path, or at_ct", async () => {
    const html = await get("/@alice/demo/index.html");
    expect([html.status, html.headers.get("content-type"), await html.text()]).toEqual([200, "text/html; charset=utf-8", "<p>hi</p>"]);
    const asked = await get("/wavi/location?at_ct=application/json");
    expect(asked.headers.get("content-type")).toBe("application/json; charset=utf-8");
    // A header injection through at_ct is refused, not echoed.
    expect((await get("/wavi/location?at_ct=text/plain%0d%0aX-Evil:%201")).status).toBe(400);
  });
  test("at_rt=meta and at_rt=all answer JSON as the lookup verbs do", async () => {
    const meta = await get("/wavi/location?at_rt=meta");
    expect(meta.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const m = (await meta.json()) as Record<string, unknown>;
    expect(m.createdBy).toBe("@alice");
    expect(Object.values(m)).not.toContain(null);
    const all = (await (await get("/wavi/location?at_rt=all")).json()) as Record<string, unknown>;
    expect([all.key, all.data]).toEqual(["public:location.wavi@alice", "hello"]);
  });
  test("a hidden public key is public too, as in the reference", async () => {
    expect(await (await get("/wavi/_hidden")).text()).toBe("h");
  });
  test("self, shared and missing keys are 404, and no path reaches them", async () => {
    for (const path of ["/wavi/phone", "/@bob:phone.wavi", "/@bob:phone.wavi@alice", "/phone.wavi@alice", "/nothing", "/", "/privatekey:at_pkam_publickey"]) {
      const r = await get(path);
      expect([path, r.status, await r.text()]).toEqual([path, 404, "404 Not Found"]);
    }
  });
  test("a binary value is served as its Base2e15-decoded bytes (also for at_rt=all); at_rt=meta is JSON", async () => {
    for (const path of ["/logo.png", "/logo.png?at_rt=all"]) {
      const r = await get(path);
      expect([r.status, r.headers.get("content-type")]).toEqual([200, "image/png; charset=utf-8"]);
      expect(new TextDecoder().decode(await r.arrayBuffer())).toBe("Base2e15 is awesome!");
    }
    expect(((await (await get("/logo.png?at_rt=meta")).json()) as { isBinary: boolean }).isBinary).toBe(true);
  });
  test("curl --http1.1 negotiates http/1.1 and reads the record", async () => {
    if (Bun.which("curl") === null) return;
    const p = Bun.spawn(["curl", "-sS", "--http1.1", "--cacert", caFile, "--resolve", `localhost:${f.server.port}:127.0.0.1`, `https://localhost:${f.server.port}/wavi/location`], { stdout: "pipe", stderr: "pipe" });
    expect(await p.exited).toBe(0);
    expect(await new Response(p.stdout).text()).toBe("hello");
  });
});

describe("bad requests get their 4xx and the close", () => {
  test("a method other than GET is 405 with Allow", async () => {
    for (const method of ["POST", "HEAD", "DELETE"]) {
      const r = await get("/wavi/location", { method });
      expect([method, r.status, r.headers.get("allow")]).toEqual([method, 405, "GET"]);
    }
  });
  test("a URI over 1000 characters is 400 (the reference's limit)", async () => {
    expect((await get(`/${"a".repeat(999)}`)).status).toBe(404);
    expect((await get(`/${"a".repeat(1000)}`)).status).toBe(400);
  });
  const cases: [string, string, number][] = [
    ["headers past 8 KiB", `GET /x HTTP/1.1\r\nHost: a\r\nX-Big: ${"b".repeat(9000)}\r\n\r\n`, 431],
    ["too many header lines", `GET /x HTTP/1.1\r\nHost: a\r\n${"X-A: 1\r\n".repeat(70)}\r\n`, 431],
    ["a request line past 8 KiB", `GET /${"a".repeat(9000)}`, 400],
    ["HTTP/2.0 on the request line", "GET /x HTTP/2.0\r\nHost: a\r\n\r\n", 505],
    ["a malformed request line", "GET /x\r\nHost: a\r\n\r\n", 400],
    ["HTTP/1.1 without Host", "GET /location.wavi HTTP/1.1\r\n\r\n", 400],
    ["a folded header line", "GET /x HTTP/1.1\r\nHost: a\r\n  folded\r\n\r\n", 400],
    ["a header name that is not a token", "GET /x HTTP/1.1\r\nHost: a\r\nBad Name: 1\r\n\r\n", 400],
  ];
  for (const [what, bytes, status] of cases) {
    test(`${what} → ${status}`, async () => {
      const { protocol, received } = await rawTls(f.server.port, f.ca, ["http/1.1"], bytes);
      expect(protocol).toBe("http/1.1");
      expect(statusOf(received)).toBe(status);
      expect(received).toContain("Connection: close\r\n");
    });
  }
  test("HTTP/1.0 without Host, bare LF line ends, is served", async () => {
    const { received } = await rawTls(f.server.port, f.ca, ["http/1.1"], "GET /location.wavi HTTP/1.0\n\n");
    expect(statusOf(received)).toBe(200);
    expect(received.endsWith("\r\n\r\nhello")).toBe(true);
  });
});

describe("limits shared with atProtocol strangers", () => {
  test("a head not complete within the strangers' line deadline gets 408 and the close", async () => {
    const g = await startServerFixture({ limits: { unauthLineDeadlineMs: 300 } });
    try {
      const { received } = await rawTls(g.server.port, g.ca, ["http/1.1"], "GET /x HTTP/1.1\r\nHost: a\r\n");
      expect(statusOf(received)).toBe(408);
    } finally {
      await g.stop();
    }
  });
  test("an HTTP connection is a stranger: a newcomer from its address evicts it, silently", async () => {
    const g = await startServerFixture({ limits: { maxUnauthPerAddress: 1 } });
    try {
      const held = openTls(g.server.port, g.ca, ["http/1.1"], "GET /x HTTP/1.1\r\n");
      // The server counted it at accept, before the handshake ended.
      await held.secured;
      const plain = await g.connect();
      expect((await held.done).received).toBe("");
      expect(await plain.send("info")).toMatch(/^data:/);
      plain.close();
    } finally {
      await g.stop();
    }
  });
});

test("an HTTP connection refused at the limit is closed without an atProtocol error", async () => {
  const g = await startServerFixture({ limits: { maxConnectionsPerAddress: 1 } });
  try {
    const plain = await g.connect();
    const { protocol, received } = await rawTls(g.server.port, g.ca, ["http/1.1"], "");
    expect([protocol, received]).toEqual(["http/1.1", ""]);
    plain.close();
  } finally {
    await g.stop();
  }
});

test("an enrollment's _apsk is served while it is approved, not while revoked (the reference moves it away)", async () => {
  const g = await startServerFixture();
  try {
    const managerId = await onboardManager(g);
    const manager = await connectApkam(g, managerId);
    const otp = (await manager.send("otp:get")).replace(/^data:/, "");
    const device = await g.connect();
    const request = { appName: "web", deviceName: "d", namespaces: { wavi: "r" }, otp, apkamPublicKey: (await apkamKeys).publicKey, encryptedAPKAMSymmetricKey: "a2V5", apsk: { v: 1 } };
    const id = dataJson(await device.send(enrollLine("request", request))).enrollmentId as string;
    device.close();
    const approve = { enrollmentId: id, encryptedDefaultEncryptionPrivateKey: "ZW5j", encryptedDefaultSelfEncryptionKey: "c2VsZg==" };
    expect(dataJson(await manager.send(enrollLine("approve", approve))).status).toBe("approved");
    const apsk = () => fetch(`https://127.0.0.1:${g.server.port}/_apsk.${id}.a.__e`, { tls: { ca: g.ca, serverName: "localhost" } } as RequestInit);
    expect(await (await apsk()).text()).toBe('{"v":1}');
    expect(dataJson(await manager.send(enrollLine("revoke", { enrollmentId: id }))).status).toBe("revoked");
    expect((await apsk()).status).toBe(404);
    expect(dataJson(await manager.send(enrollLine("unrevoke", { enrollmentId: id }))).status).toBe("approved");
    expect((await apsk()).status).toBe(200);
    manager.close();
  } finally {
    await g.stop();
  }
});

describe("atProtocol on the same port", () => {
  test("a client without ALPN gets the prompt and its answers, byte for byte as before", async () => {
    const c = await f.connect();
    expect(await c.send("lookup:location.wavi@alice")).toBe("data:hello");
    expect(c.chunks[0]).toBe("@");
    c.close();
  });
  test("a client offering atProtocol/1.0 (or both, preferring it) is served the atProtocol", async () => {
    for (const alpn of [["atProtocol/1.0"], ["atProtocol/1.0", "http/1.1"]]) {
      const { protocol, received } = await rawTls(f.server.port, f.ca, alpn, "lookup:location.wavi@alice\n@exit\n");
      expect(protocol).toBe("atProtocol/1.0");
      expect(received.slice(0, 13)).toBe("@data:hello\n@");
    }
  });
});
