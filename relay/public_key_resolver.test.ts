import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type KeyPairText, generateRsaKeyPair } from "../core/crypto/rsa.ts";
import { type Stack, startStack } from "../test/harness.ts";
import { cramAuth } from "../test/server_fixture.ts";
import { connectWire } from "../test/wire_client.ts";
import { startRelay } from "./index.ts";
import { LookupThrottled, cachedResolver, directoryResolver } from "./public_key_resolver.ts";
import { testPair } from "./test_legs.ts";

describe("cachedResolver()", () => {
  const counting = (answers: Record<string, string | null | Error>) => {
    const calls: string[] = [];
    const inner = async (atSign: string) => {
      calls.push(atSign);
      await Bun.sleep(1);
      const a = answers[atSign];
      if (a instanceof Error) throw a;
      return a ?? null;
    };
    return { calls, inner };
  };

  test("reuses an answer until it expires, and a miss for a shorter time", async () => {
    const { calls, inner } = counting({ "@alice": "KEY" });
    let now = 0;
    const resolve = cachedResolver(inner, { ttlMs: 100, negativeTtlMs: 10, nowMs: () => now });
    expect(await resolve("@alice")).toBe("KEY");
    expect(await resolve("@nobody")).toBeNull();
    now = 50;
    expect(await resolve("@alice")).toBe("KEY");
    expect(await resolve("@nobody")).toBeNull();
    expect(calls).toEqual(["@alice", "@nobody", "@nobody"]);
    now = 150;
    await resolve("@alice");
    expect(calls).toEqual(["@alice", "@nobody", "@nobody", "@alice"]);
  });

  test("runs one lookup for concurrent requests and does not cache failures", async () => {
    const { calls, inner } = counting({ "@alice": "KEY", "@down": new Error("unreachable") });
    const resolve = cachedResolver(inner);
    expect(await Promise.all([resolve("@alice"), resolve("@alice"), resolve("@alice")])).toEqual(["KEY", "KEY", "KEY"]);
    await expect(resolve("@down")).rejects.toThrow("unreachable");
    await expect(resolve("@down")).rejects.toThrow("unreachable");
    expect(calls).toEqual(["@alice", "@down", "@down"]);
  });

  test("keeps at most maxEntries, dropping the oldest", async () => {
    const { calls, inner } = counting({});
    const resolve = cachedResolver(inner, { maxEntries: 2 });
    for (const a of ["@a", "@b", "@c", "@b", "@a"]) await resolve(a);
    expect(calls).toEqual(["@a", "@b", "@c", "@a"]);
  });

  test("unknown @signs are cached apart: a flood of invented names does not push known keys out", async () => {
    const { calls, inner } = counting({ "@alice": "KEY" });
    const resolve = cachedResolver(inner, { maxEntries: 2 });
    await resolve("@alice");
    for (const a of ["@x", "@y", "@z"]) expect(await resolve(a)).toBeNull();
    expect(await resolve("@alice")).toBe("KEY");
    expect(calls).toEqual(["@alice", "@x", "@y", "@z"]);
  });

  test("lookups past the cache are budgeted per requesting address and per prefix", async () => {
    const { calls, inner } = counting({});
    const resolve = cachedResolver(inner, { lookupsPerAddress: 2, lookupsPerPrefix: 3 });
    await resolve("@a", "10.0.0.1");
    await resolve("@b", "10.0.0.1");
    await expect(resolve("@c", "10.0.0.1")).rejects.toThrow(LookupThrottled);
    await resolve("@d", "10.0.0.2");
    await expect(resolve("@e", "10.0.0.3")).rejects.toThrow(LookupThrottled);
    // Cached answers cost nothing.
    expect(await resolve("@a", "10.0.0.1")).toBeNull();
    await resolve("@f", "10.0.9.1");
    expect(calls).toEqual(["@a", "@b", "@d", "@f"]);
  });
});

// The production path against a real directory and real atServers (test/harness.ts).
describe("directoryResolver()", () => {
  let stack: Stack;
  let alice: KeyPairText;
  let bob: KeyPairText;
  beforeAll(async () => {
    [stack, alice, bob] = await Promise.all([startStack({ atSigns: ["@alice", "@bob", "@carol"] }), generateRsaKeyPair(), generateRsaKeyPair()]);
    for (const [atSign, pair] of [["@alice", alice], ["@bob", bob]] as const) {
      const server = stack.servers.get(atSign)!;
      const c = await connectWire(server.port, stack.ca);
      expect(await cramAuth(c, atSign, server.cramSecret)).toBe("data:success");
      expect(await c.send(`update:public:publickey${atSign} ${pair.publicKey}`)).toMatch(/^data:\d+$/);
      c.close();
    }
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const resolver = () => directoryResolver({ host: "127.0.0.1", port: stack.directory.port, ca: [stack.ca] });

  test("finds an @sign's public key through the directory and its server", async () => {
    expect(await resolver()("@alice")).toBe(alice.publicKey);
  });

  test("takes its CA list as a function, built once the first lookup happens (what relay.ts passes)", async () => {
    let built = 0;
    const lazy = directoryResolver({ host: "127.0.0.1", port: stack.directory.port, ca: () => (built++, [stack.ca]) });
    expect(built).toBe(0);
    expect(await lazy("@bob")).toBe(bob.publicKey);
    expect(built).toBeGreaterThan(0);
  });

  test("answers null for an @sign the directory does not know or without a key", async () => {
    expect(await resolver()("@nobody")).toBeNull();
    expect(await resolver()("@carol")).toBeNull();
  });

  test("lets a relay pair two legs whose keys live on their atServers", async () => {
    const relay = await startRelay({ relayAtSign: "@relay", host: "127.0.0.1", port: 0, resolvePublicKey: cachedResolver(resolver()) });
    try {
      const [a, b] = await testPair(
        relay.port,
        crypto.randomUUID(),
        { atSign: "@alice", key: { algo: "rsa2048", privateKey: alice.privateKey } },
        { atSign: "@bob", key: { algo: "rsa2048", privateKey: bob.privateKey } },
        true,
      );
      await a.writeAll(new TextEncoder().encode("over the relay"));
      await b.waitBytes(14);
      expect(Buffer.concat(b.keep!).toString()).toBe("over the relay");
      a.socket.end();
      await b.closed;
    } finally {
      await relay.stop();
    }
  });
});
