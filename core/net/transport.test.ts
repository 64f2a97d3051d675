/**
 * The TLS client adapter against real node:tls servers (node:tls serves on Bun and Deno alike, so this one file
 * runs under both: `bun test core/net/transport.test.ts` and `bun run deno:test`). Trust is a throwaway dev CA
 * only (no system roots), so a passing handshake proves the custom CA and the name check were used.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createTcpServer, type Server as TcpServer, type Socket as TcpSocket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server, type TLSSocket } from "node:tls";
import { issueLeaf, loadOrCreateDevCa, type CertPair } from "../crypto/dev_ca.ts";
import { connectTlsTransport, TransportError, type TlsTransport, type TransportEvents } from "./transport.ts";

const HOST = "127.0.0.1";
const TIMEOUT_MS = 5000;
const LIMIT_BYTES = 64 * 1024 * 1024;
const BIG_BYTES = 8 * 1024 * 1024;

let home: string;
let otherHome: string;
let ca: CertPair;
let otherCa: CertPair;
let leaf: CertPair;
const servers: (Server | TcpServer)[] = [];

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "inlay-transport-"));
  otherHome = mkdtempSync(join(tmpdir(), "inlay-transport-other-"));
  ca = await loadOrCreateDevCa(home);
  otherCa = await loadOrCreateDevCa(otherHome);
  leaf = await issueLeaf(ca, [HOST]);
});

afterAll(() => {
  for (const s of servers) s.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(otherHome, { recursive: true, force: true });
});

/** Starts a TLS server on an ephemeral port; `onConn` gets each accepted socket. */
async function tlsServer(pair: CertPair, onConn: (s: TLSSocket) => void): Promise<number> {
  const server = createServer({ key: pair.key, cert: pair.cert, allowHalfOpen: true }, onConn);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, HOST, r));
  return (server.address() as { port: number }).port;
}

/** Events that collect what arrives and resolve when the transport closes. */
function collector(withEnd = false) {
  const chunks: Uint8Array[] = [];
  let ended = false;
  let closedWith: string | null = null;
  let onClosed: () => void = () => {};
  const closed = new Promise<void>((r) => (onClosed = r));
  const events: TransportEvents = {
    data: (c) => chunks.push(c),
    closed: (reason) => {
      closedWith = reason;
      onClosed();
    },
    ...(withEnd ? { end: () => (ended = true) } : {}),
  };
  const text = () => new TextDecoder().decode(Buffer.concat(chunks));
  return { events, closed, text, ended: () => ended, closedWith: () => closedWith };
}

/** Polls `cond` until it holds or the deadline passes. */
async function until(cond: () => boolean, ms = TIMEOUT_MS): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("Cannot meet condition: timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

const connect = (port: number, events: TransportEvents, trust = [ca.cert], host = HOST): Promise<TlsTransport> =>
  connectTlsTransport({ host, port, ca: trust }, events, { timeoutMs: TIMEOUT_MS, writeLimitBytes: LIMIT_BYTES });

async function failure(p: Promise<unknown>): Promise<TransportError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TransportError) return e;
    throw e;
  }
  throw new Error("expected the connect to fail");
}

describe("handshake", () => {
  test("trusts a chain ending in the given CA and carries bytes both ways", async () => {
    const port = await tlsServer(leaf, (s) => s.on("data", (d: Buffer) => s.write(d.toString().toUpperCase())));
    const c = collector();
    const t = await connect(port, c.events);
    expect(t.isOpen).toBe(true);
    expect(t.write("hello ")).not.toBe("closed");
    t.write(new TextEncoder().encode("world"));
    await until(() => c.text() === "HELLO WORLD");
    t.close();
    await c.closed;
    expect(t.isOpen).toBe(false);
    expect(t.write("late")).toBe("closed");
  });

  test("a certificate from another CA is untrusted", async () => {
    const port = await tlsServer(leaf, () => {});
    const err = await failure(connect(port, collector().events, [otherCa.cert]));
    expect(err.kind).toBe("untrusted");
  });

  test("a certificate for another name is untrusted (host name check)", async () => {
    const port = await tlsServer(await issueLeaf(ca, ["other.example"]), () => {});
    const err = await failure(connect(port, collector().events));
    expect(err.kind).toBe("untrusted");
  });

  test("a closed port is unreachable", async () => {
    const probe = createTcpServer();
    await new Promise<void>((r) => probe.listen(0, HOST, r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const err = await failure(connect(port, collector().events));
    expect(err.kind).toBe("unreachable");
  });

  test("a server that never answers the handshake times out", async () => {
    const held: TcpSocket[] = [];
    const silent = createTcpServer((s) => held.push(s));
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, HOST, r));
    const port = (silent.address() as { port: number }).port;
    const err = await failure(connectTlsTransport({ host: HOST, port, ca: [ca.cert] }, collector().events, { timeoutMs: 300, writeLimitBytes: LIMIT_BYTES }));
    expect(err.kind).toBe("timeout");
    for (const s of held) s.destroy();
  });
});

describe("writes and half-close", () => {
  test("a large write to a paused reader arrives whole; drained() waits for it; closeWrite lets the server answer", async () => {
    let resume: (() => void) | null = null;
    const port = await tlsServer(leaf, (s) => {
      let got = 0;
      s.pause();
      resume = () => s.resume();
      s.on("data", (d: Buffer) => (got += d.byteLength));
      s.on("end", () => s.end(`got ${got}`)); // answers after the client's FIN
    });
    const c = collector(true);
    const t = await connect(port, c.events);
    const big = new Uint8Array(BIG_BYTES).fill(7);
    expect(t.write(big)).not.toBe("closed");
    const drained = t.drained();
    await until(() => resume !== null); // the server's side of the handshake can finish after ours
    resume!();
    await drained;
    t.closeWrite();
    await until(() => c.text() === `got ${BIG_BYTES}`);
    await until(() => c.ended());
    await c.closed; // both sides sent FIN: the socket is done
    expect(t.isOpen).toBe(false);
  });

  test("after the peer's FIN an owner with an end handler can still write", async () => {
    let got = "";
    const port = await tlsServer(leaf, (s) => {
      s.end("bye");
      s.on("data", (d: Buffer) => (got += d.toString()));
    });
    const c = collector(true);
    const t = await connect(port, c.events);
    await until(() => c.ended());
    expect(c.text()).toBe("bye");
    expect(t.isOpen).toBe(true);
    t.write("still here");
    await until(() => got === "still here");
    t.close();
    await c.closed;
  });

  test("without an end handler the peer's close closes the transport", async () => {
    const port = await tlsServer(leaf, (s) => s.end("bye"));
    const c = collector();
    const t = await connect(port, c.events);
    await c.closed;
    expect(c.text()).toBe("bye");
    expect(t.isOpen).toBe(false);
  });

  test("more queued bytes than the limit report overflow", async () => {
    const port = await tlsServer(leaf, (s) => s.pause());
    const c = collector();
    const t = await connectTlsTransport({ host: HOST, port, ca: [ca.cert] }, c.events, { timeoutMs: TIMEOUT_MS, writeLimitBytes: 1024 });
    let result = t.write(new Uint8Array(BIG_BYTES));
    for (let i = 0; i < 8 && result !== "overflow"; i++) result = t.write(new Uint8Array(BIG_BYTES));
    expect(result).toBe("overflow");
    t.close();
    await c.closed;
  });
});
