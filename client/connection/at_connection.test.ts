/**
 * Connection-level behaviour that a well-behaved server never provokes (responses split byte by byte,
 * silence, dropped sockets), checked against a scripted TLS peer speaking the wire forms of ATPROTOCOL.md §2.
 * The end-to-end behaviour against the real atServer lives in test/client/.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { issueLeaf, loadOrCreateDevCa } from "../../core/crypto/dev_ca.ts";
import { AtNetworkError } from "../errors.ts";
import { AtConnection } from "./at_connection.ts";
import { rootResolver } from "./root_lookup.ts";
import { Session } from "./session.ts";

type Reply = (line: string) => string | null; // null = stay silent; "<close>" = drop the socket
const home = mkdtempSync(join(tmpdir(), "inlay-conn-"));
let ca: string;
let leaf: { key: string; cert: string };

function peer(reply: Reply, opts: { splitBytes?: boolean } = {}) {
  const enc = new TextEncoder();
  return Bun.listen<{ buf: string }>({
    hostname: "127.0.0.1",
    port: 0,
    tls: leaf,
    socket: {
      open(s) {
        s.data = { buf: "" };
        s.write("@");
      },
      data(s, chunk) {
        s.data.buf += new TextDecoder().decode(chunk);
        let nl: number;
        while ((nl = s.data.buf.indexOf("\n")) >= 0) {
          const line = s.data.buf.slice(0, nl);
          s.data.buf = s.data.buf.slice(nl + 1);
          const out = reply(line);
          if (out === "<close>") return void s.end();
          if (out === null) continue;
          if (!opts.splitBytes) s.write(out);
          // one byte per write: the client must reassemble the payload and the prompt
          else for (const b of enc.encode(out)) s.write(new Uint8Array([b]));
        }
      },
      error() {},
    },
  });
}

beforeAll(() => {
  const devCa = loadOrCreateDevCa(home);
  ca = devCa.cert;
  leaf = issueLeaf(devCa, ["localhost", "127.0.0.1"]);
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

const target = (port: number) => ({ host: "127.0.0.1", port, ca: [ca] });

describe("AtConnection", () => {
  test("pipelined requests come back in order, across byte-sized chunks and prompts", async () => {
    using server = peer((line) => (line.startsWith("e") ? `error:AT0015-key not found : ${line}\n@alice@` : `data:${line}\n@alice@`), { splitBytes: true });
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
    using server = peer((line) => ((stuck ||= line === "slow") ? null : `data:ok\n@`));
    const conn = await AtConnection.open(target(server.port));
    const slow = conn.request("slow", 200);
    const after = conn.request("fast").catch((e: unknown) => e);
    await expect(slow).rejects.toMatchObject({ code: "AT0023" });
    expect(await after).toBeInstanceOf(AtNetworkError);
    expect(conn.isOpen).toBe(false);
  });

  test("an untrusted certificate is refused with the fix named", async () => {
    using server = peer(() => "data:ok\n@");
    const other = loadOrCreateDevCa(mkdtempSync(join(home, "other-")));
    await expect(AtConnection.open({ host: "127.0.0.1", port: server.port, ca: [other.cert] })).rejects.toThrow(/--ca/);
  });

  test("a refused port is a network error", async () => {
    const server = peer(() => "data:ok\n@");
    const port = server.port;
    server.stop(true);
    await expect(AtConnection.open(target(port), 2000)).rejects.toBeInstanceOf(AtNetworkError);
  });
});

describe("Session", () => {
  test("reconnects after the server drops the connection and re-authenticates", async () => {
    let auths = 0;
    using server = peer((line) => {
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
