/**
 * Connection-level behaviour that a well-behaved server never provokes (responses split byte by byte,
 * silence, dropped sockets), checked against a scripted TLS peer speaking the wire forms of ATPROTOCOL.md §2.
 * The end-to-end behaviour against the real atServer lives in test/client/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type TLSSocket } from "node:tls";
import { issueLeaf, loadOrCreateDevCa } from "../../core/crypto/dev_ca.ts";
import { AtNetworkError } from "../errors.ts";
import { AtConnection } from "./at_connection.ts";
import { rootResolver } from "./root_lookup.ts";
import { Session } from "./session.ts";

type Reply = (line: string) => string | null; // null = stay silent; "<close>" = drop the socket
const home = mkdtempSync(join(tmpdir(), "inlay-conn-"));
let ca: string;
let leaf: { key: string; cert: string };
/** Stops of the peers a test started; afterEach runs them. */
const running: (() => Promise<void>)[] = [];

/** A scripted TLS peer (node:tls, so this file runs on Bun and Deno alike). */
async function peer(reply: Reply, opts: { splitBytes?: boolean } = {}): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<TLSSocket>();
  const server = createServer({ key: leaf.key, cert: leaf.cert }, (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    let buf = "";
    s.write("@");
    s.on("data", (chunk: Buffer) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const out = reply(line);
        if (out === "<close>") return void s.end();
        if (out === null) continue;
        if (!opts.splitBytes) s.write(out);
        // one byte per write: the client must reassemble the payload and the prompt
        else for (const b of Buffer.from(out)) s.write(Buffer.from([b]));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const stop = () => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  };
  running.push(stop);
  return { port: (server.address() as { port: number }).port, stop };
}

beforeAll(async () => {
  const devCa = await loadOrCreateDevCa(home);
  ca = devCa.cert;
  leaf = await issueLeaf(devCa, ["localhost", "127.0.0.1"]);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((stop) => stop()));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

const target = (port: number) => ({ host: "127.0.0.1", port, ca: [ca] });

describe("AtConnection", () => {
  test("pipelined requests come back in order, across byte-sized chunks and prompts", async () => {
    const server = await peer((line) => (line.startsWith("e") ? `error:AT0015-key not found : ${line}\n@alice@` : `data:${line}\n@alice@`), { splitBytes: true });
    const conn = await AtConnection.open(target(server.port));
    const replies = await Promise.all(["a1", "b2", "e3", "d4"].map((l) => conn.request(l)));
    expect(replies).toEqual([
      { ok: true, data: "a1" },
      { ok: true, data: "b2" },
      { ok: false, code: "AT0015", description: "key not found : e3" },
      { ok: true, data: "d4" },
    ]);
    conn.close();
  });

  test("a silent server times the request out and fails the rest, not the process", async () => {
    let stuck = false; // a real server answers in order, so nothing comes after the stuck request
    const server = await peer((line) => ((stuck ||= line === "slow") ? null : `data:ok\n@`));
    const conn = await AtConnection.open(target(server.port));
    const slow = conn.request("slow", 200);
    const after = conn.request("fast").catch((e: unknown) => e);
    await expect(slow).rejects.toMatchObject({ code: "AT0023" });
    expect(await after).toBeInstanceOf(AtNetworkError);
    expect(conn.isOpen).toBe(false);
  });

  test("an untrusted certificate is refused with the fix named", async () => {
    const server = await peer(() => "data:ok\n@");
    const other = await loadOrCreateDevCa(mkdtempSync(join(home, "other-")));
    await expect(AtConnection.open({ host: "127.0.0.1", port: server.port, ca: [other.cert] })).rejects.toThrow(/--ca/);
  });

  test("a refused port is a network error", async () => {
    const server = await peer(() => "data:ok\n@");
    await server.stop();
    const port = server.port;
    await expect(AtConnection.open(target(port), 2000)).rejects.toBeInstanceOf(AtNetworkError);
  });
});

describe("Session", () => {
  test("reconnects after the server drops the connection and re-authenticates", async () => {
    let auths = 0;
    const server = await peer((line) => {
      if (line === "from:@alice") return "data:challenge\n@";
      if (line === "drop") return "<close>";
      return `data:${line}\n@alice@`;
    });
    const session = new Session({
      atSign: "@alice",
      resolver: rootResolver({ host: "127.0.0.1", port: 1 }, [ca]),
      ca: [ca],
      address: { host: "127.0.0.1", port: server.port },
      authenticate: async (conn) => {
        auths++;
        await conn.request("from:@alice");
      },
    });
    expect(await session.send("one")).toBe("one");
    await expect(session.send("drop")).rejects.toBeInstanceOf(AtNetworkError); // dropped twice: original + retry
    expect(await session.send("two")).toBe("two");
    expect(auths).toBeGreaterThanOrEqual(3);
    session.close();
  });
});
