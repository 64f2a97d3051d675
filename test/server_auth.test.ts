/**
 * Owner authentication over real TLS: CRAM, PKAM with RSA (SHA-256/SHA-512), P-256 and Ed25519, failures,
 * throttling, the CRAM lock-out once a PKAM key exists, and the error forms.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cramDigest, generatePkamKeyPair, signPkam, type PkamSigningAlgo } from "../core/crypto/index.ts";
import { cramAuth, startServerFixture, type ServerFixture } from "./server_fixture.ts";
import type { WireClient } from "./wire_client.ts";

let f: ServerFixture;
const open: WireClient[] = [];
const connect = async () => {
  const c = await f.connect();
  open.push(c);
  return c;
};

beforeAll(async () => {
  f = await startServerFixture();
});
afterAll(async () => {
  for (const c of open) c.close();
  await f.stop();
});

const challengeOf = (answer: string) => answer.replace(/^data:/, "");

describe("from", () => {
  test("gives a fresh challenge per from, bound to the session", async () => {
    const c = await connect();
    const a = challengeOf(await c.send("from:@alice"));
    const b = challengeOf(await c.send("from:alice"));
    expect(a).toMatch(/^_[0-9a-f-]{36}@alice:[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
    expect(a.split("@")[0]).toBe(b.split("@")[0]!);
  });

  test("an invalid @sign is a syntax error and the connection stays", async () => {
    const c = await connect();
    expect(await c.send("from:@al!ce")).toStartWith("error:AT0003-");
    expect(await c.send("noop:0")).toBe("data:ok");
  });
});

describe("cram", () => {
  test("right digest authenticates; the prompt becomes @alice@", async () => {
    const c = await connect();
    expect(await cramAuth(c, "@alice", f.server.cramSecret)).toBe("data:success");
    expect(await c.send("noop:0")).toBe("data:ok");
  });

  test("wrong digest: AT0401, connection stays open and unauthenticated", async () => {
    const c = await connect();
    await c.send("from:@alice");
    expect(await c.send(`cram:${"0".repeat(128)}`)).toBe("error:AT0401-Exception: Authentication Failed");
    expect(await c.send("llookup:xy@alice")).toBe("error:AT0401-Exception: Command cannot be executed without auth");
  });

  test("cram without from is refused", async () => {
    const c = await connect();
    expect(await c.send(`cram:${"0".repeat(128)}`)).toStartWith("error:AT0401-");
  });

  test("a used challenge cannot be replayed", async () => {
    const c = await connect();
    const ch = challengeOf(await c.send("from:@alice"));
    c.prompt = "@alice@";
    expect(await c.send(`cram:${await cramDigest(f.server.cramSecret, ch)}`)).toBe("data:success");
    expect(await c.send(`cram:${await cramDigest(f.server.cramSecret, ch)}`)).toStartWith("error:AT0401-");
  });

  test("per-connection throttle after repeated failures", async () => {
    const c = await connect();
    await c.send("from:@alice");
    for (let i = 0; i < 5; i++) await c.send(`cram:${"1".repeat(128)}`);
    const ch = challengeOf(await c.send("from:@alice"));
    expect(await c.send(`cram:${await cramDigest(f.server.cramSecret, ch)}`)).toContain("Too many failed authentication attempts");
  });

  test("per-address throttle: after 30 failures in a minute, new connections from the address are refused too", async () => {
    const s = await startServerFixture({ atSign: "@throttled" });
    try {
      for (let n = 0; n < 6; n++) {
        const c = await s.connect();
        await c.send("from:@throttled");
        for (let i = 0; i < 5; i++) expect(await c.send(`cram:${"3".repeat(128)}`)).toBe("error:AT0401-Exception: Authentication Failed");
        c.close();
      }
      const c = await s.connect();
      const ch = challengeOf(await c.send("from:@throttled"));
      expect(await c.send(`cram:${await cramDigest(s.server.cramSecret, ch)}`)).toContain("from this address");
      c.close();
    } finally {
      await s.stop();
    }
  });

  test("clients announcing a version above 3.0.37 get JSON errors", async () => {
    const c = await connect();
    await c.send('from:@alice:clientConfig:{"version":"3.0.80"}');
    const e = await c.send(`cram:${"2".repeat(128)}`);
    expect(JSON.parse(e.replace(/^error:/, ""))).toEqual({ errorCode: "AT0401", errorDescription: "Exception: Authentication Failed" });
  });
});

describe("pkam", () => {
  const algos: [PkamSigningAlgo, "sha256" | "sha512", string][] = [
    ["rsa2048", "sha256", "pkam:signingAlgo:rsa2048:hashingAlgo:sha256:"],
    ["rsa2048", "sha512", "pkam:signingAlgo:rsa2048:hashingAlgo:sha512:"],
    ["ecc_secp256r1", "sha256", "pkam:signingAlgo:ecc_secp256r1:"],
    ["ed25519", "sha256", "pkam:signingAlgo:ed25519:"],
  ];

  for (const [algo, hash, prefix] of algos) {
    test(`${algo}/${hash}: a right signature authenticates, a wrong one is AT0401, CRAM is then refused`, async () => {
      const keys = await generatePkamKeyPair(algo);
      const wrong = await generatePkamKeyPair(algo);
      const s = await startServerFixture({ atSign: "@pkamtest" });
      try {
        const owner = await s.connectOwner();
        expect(await owner.send(`update:privatekey:at_pkam_publickey ${keys.publicKey}`)).toBe("data:-1");
        owner.close();
        expect(s.server.onboarded()).toBe(true);
        const c = await s.connect();
        const ch = challengeOf(await c.send("from:@pkamtest"));
        expect(await c.send(`${prefix}${signPkam(ch, { algo, privateKey: wrong.privateKey }, hash)}`)).toBe(
          "error:AT0401-Exception: pkam authentication failed",
        );
        const ch2 = challengeOf(await c.send("from:@pkamtest"));
        c.prompt = "@pkamtest@";
        expect(await c.send(`${prefix}${signPkam(ch2, { algo, privateKey: keys.privateKey }, hash)}`)).toBe("data:success");
        expect(await c.send("llookup:public:signing_publickey@pkamtest")).toStartWith("data:MII");
        c.close();
        const other = await s.connect();
        expect(await cramAuth(other, "@pkamtest", s.server.cramSecret)).toContain("CRAM is disabled");
        other.close();
      } finally {
        await s.stop();
      }
    });
  }

  test("plain pkam:<sig> (at_python form) uses rsa2048/sha256", async () => {
    const keys = await generatePkamKeyPair("rsa2048");
    const s = await startServerFixture({ atSign: "@pyform" });
    try {
      const o = await s.connectOwner();
      await o.send(`update:privatekey:at_pkam_publickey ${keys.publicKey}`);
      o.close();
      const c = await s.connect();
      const ch = challengeOf(await c.send("from:@pyform"));
      c.prompt = "@pyform@";
      expect(await c.send(`pkam:${signPkam(ch, { algo: "rsa2048", privateKey: keys.privateKey })}`)).toBe("data:success");
      c.close();
    } finally {
      await s.stop();
    }
  });

  test("an enrollmentId is answered in form C (enrollments come later)", async () => {
    const c = await connect();
    await c.send("from:@alice");
    expect(await c.send("pkam:enrollmentId:abc:c2ln")).toBe("error:AT0028:enrollment_id: abc is expired or invalid");
  });
});
