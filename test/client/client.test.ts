/**
 * The SDK against real atServers: onboarding, the .atKeys file, PKAM on new connections, and the data API
 * round trips with their crypto checks (tampering and wrong keys fail with typed errors).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { generateRsaKeyPair, readAtKeysFile, type AtKeys } from "../../core/crypto/index.ts";
import { AtAuthError, AtClient, AtCryptoError, AtKeyNotFoundError, AtUsageError, type ConnectOptions } from "../../client/index.ts";
import { parseRecord } from "../../client/data/record.ts";
import { openSharedAsRecipient } from "../../client/data/value_crypto.ts";
import { startStack, type Stack } from "../harness.ts";

const dir = (s: Stack) => `${s.directory.host}:${s.directory.port}`;

let stack: Stack;
let alice: AtClient;
let bob: AtClient;
let aliceKeysFile: string;
let bobKeys: AtKeys;

const net = (_atSign: string): ConnectOptions => ({ directory: dir(stack), caFile: stack.caFile, home: stack.home });

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@alice", "@bob"] });
  const [a, b] = await Promise.all(
    ["@alice", "@bob"].map((s) => AtClient.onboard(s, stack.servers.get(s)!.cramSecret, { ...net(s), keysFile: join(stack.home, "keys", `${s}_key.atKeys`) })),
  );
  alice = a!.client;
  bob = b!.client;
  aliceKeysFile = a!.keysFile;
  bobKeys = await readAtKeysFile(b!.keysFile);
});

afterAll(async () => {
  alice?.close();
  bob?.close();
  await stack?.stop();
});

describe("onboarding", () => {
  test("writes a 0600 .atKeys file in the reference layout that authenticates again", async () => {
    expect(statSync(aliceKeysFile).mode & 0o777).toBe(0o600);
    const doc = JSON.parse(readFileSync(aliceKeysFile, "utf8"));
    expect(Object.keys(doc)).toEqual(["aesPkamPrivateKey", "aesPkamPublicKey", "aesEncryptPublicKey", "aesEncryptPrivateKey", "selfEncryptionKey", "@alice"]);
    const again = await AtClient.open({ ...net("@alice"), keysFile: aliceKeysFile });
    expect(await again.command("llookup:public:publickey@alice")).toBe((await readAtKeysFile(aliceKeysFile)).encryptionPublicKey);
    // the pol signing key is the server's own (reference behaviour); onboarding leaves it in place
    expect(await again.command("llookup:public:signing_publickey@alice")).toMatch(/^MII/);
    again.close();
  });

  test("the CRAM secret is gone afterwards, and the server refuses a second onboarding", async () => {
    const s = stack.servers.get("@alice")!;
    await expect(AtClient.onboard("@alice", s.cramSecret, { ...net("@alice"), keysFile: join(stack.home, "keys", "second.atKeys") })).rejects.toBeInstanceOf(AtAuthError);
  });

  test("an existing .atKeys file is not overwritten", async () => {
    await expect(AtClient.onboard("@alice", "x", { ...net("@alice"), keysFile: aliceKeysFile })).rejects.toBeInstanceOf(AtUsageError);
  });

  test("keys of another @sign fail PKAM cleanly", async () => {
    const wrong = { ...bobKeys, atSign: "@alice" };
    const c = AtClient.fromKeys(wrong, net("@alice"));
    await expect(c.authenticate()).rejects.toBeInstanceOf(AtAuthError);
    c.close();
  });
});

describe("data", () => {
  test("self values round trip, text and binary, and are stored encrypted", async () => {
    await alice.put("phone.wavi", "+1-555-0100");
    expect((await alice.get("phone.wavi")).value).toBe("+1-555-0100");
    const raw = parseRecord(await alice.command("llookup:all:phone.wavi@alice"), "phone.wavi@alice")!;
    expect(raw.data).not.toContain("555");
    expect(raw.meta.isEncrypted).toBe(true);
    const bytes = new Uint8Array(256).map((_, i) => i);
    await alice.put("blob", bytes);
    expect((await alice.get("blob")).value).toEqual(bytes);
  });

  test("public values are signed and verified, also by another @sign's client", async () => {
    await alice.put("public:greeting", "hello\nworld", { ttl: 600_000 });
    const mine = await alice.get("public:greeting");
    expect(mine.value).toBe("hello\nworld");
    expect(mine.meta.ttl).toBe(600_000);
    expect(mine.meta.dataSignature).toBeString();
  });

  test("values with edge whitespace and empty values survive the line-oriented protocol", async () => {
    await alice.put("public:padded.app", "  two spaces each side  ");
    expect((await alice.get("public:padded.app")).value).toBe("  two spaces each side  ");
    await alice.put("empty.app", "");
    expect((await alice.get("empty.app")).value).toBe("");
    await expect(alice.put("public:empty.app", "")).rejects.toBeInstanceOf(AtUsageError);
  });

  test("a tampered ciphertext is rejected", async () => {
    await alice.put("secret", "attack at dawn");
    const rec = parseRecord(await alice.command("llookup:all:secret@alice"), "secret@alice")!;
    const bytes = Buffer.from(rec.data, "base64");
    bytes[bytes.length - 1]! ^= 1;
    await alice.command(`update:isEncrypted:true:ivNonce:${rec.meta.ivNonce}:secret@alice ${bytes.toString("base64")}`);
    await expect(alice.get("secret")).rejects.toBeInstanceOf(AtCryptoError);
  });

  test("a tampered public value or signature is rejected", async () => {
    await alice.put("public:motd", "be kind");
    const rec = parseRecord(await alice.command("llookup:all:public:motd@alice"), "public:motd@alice")!;
    await alice.command(`update:dataSignature:${rec.meta.dataSignature}:isEncrypted:false:public:motd@alice be evil`);
    await expect(alice.get("public:motd")).rejects.toBeInstanceOf(AtCryptoError);
    const other = (await alice.command("llookup:all:public:greeting@alice")).match(/"dataSignature":"([^"]+)"/)![1]!;
    await alice.command(`update:dataSignature:${other}:isEncrypted:false:public:motd@alice be kind`);
    await expect(alice.get("public:motd")).rejects.toBeInstanceOf(AtCryptoError);
  });

  test("a self key may also be named @alice:name@alice, a different key encrypted the same way", async () => {
    await alice.put("@alice:twin.app", "shared with myself");
    await alice.put("twin.app", "plain self");
    expect((await alice.get("@alice:twin.app")).value).toBe("shared with myself");
    expect((await alice.get("twin.app")).value).toBe("plain self");
    expect(parseRecord(await alice.command("llookup:all:@alice:twin.app@alice"), "x")!.meta.isEncrypted).toBe(true);
  });

  test("delete, exists and scan", async () => {
    await alice.put("temp.app", "x");
    expect(await alice.exists("temp.app")).toBe(true);
    expect(await alice.scan("temp")).toEqual(["temp.app@alice"]);
    await alice.delete("temp.app");
    expect(await alice.exists("temp.app")).toBe(false);
    await expect(alice.get("temp.app")).rejects.toBeInstanceOf(AtKeyNotFoundError);
  });

  test("metadata options reach the server: ttl, ttr and ccd are stored, ttb hides the value until it is born", async () => {
    await alice.put("@bob:meta.app", "m", { ttl: 3_600_000, ttr: 86_400, ccd: true });
    const r = await alice.get("@bob:meta.app");
    expect(r.meta).toMatchObject({ ttl: 3_600_000, ttr: 86_400, ccd: true, isEncrypted: true });
    await alice.put("later.app", "not yet", { ttb: 3_600_000 });
    await expect(alice.get("later.app")).rejects.toBeInstanceOf(AtKeyNotFoundError);
    await expect(alice.put("bad.app", "x", { ttl: -5 })).rejects.toBeInstanceOf(AtUsageError);
  });

  test("only the owner may write its keys", async () => {
    await expect(alice.put("public:xy@bob", "v")).rejects.toBeInstanceOf(AtUsageError);
  });
});

describe("sharing", () => {
  test("alice shares with bob: one shared key per recipient, bob's keys decrypt the stored record", async () => {
    await alice.put("@bob:note.app", "for bob only");
    await alice.put("@bob:note2.app", "also for bob");
    expect((await alice.get("@bob:note.app")).value).toBe("for bob only");
    expect((await alice.scan("shared_key")).sort()).toEqual(["@bob:shared_key@alice", "shared_key.bob@alice"]);
    const rec = parseRecord(await alice.command("llookup:all:@bob:note2.app@alice"), "@bob:note2.app@alice")!;
    expect(openSharedAsRecipient(bobKeys, rec)).toBe("also for bob");
    expect(() => openSharedAsRecipient({ ...bobKeys, encryptionPrivateKey: alice.keys.encryptionPrivateKey }, rec)).toThrow(AtCryptoError);
    // a second client of alice's finds the same shared key instead of cutting a new one
    const again = await AtClient.open({ ...net("@alice"), keysFile: aliceKeysFile });
    await again.put("@bob:note3.app", "third");
    expect((await alice.get("@bob:note3.app")).value).toBe("third");
    again.close();
  });

  test("bob reads alice's public value from alice's server and checks her signature", async () => {
    await alice.put("public:card.app", "alice in wonderland");
    const r = await bob.get("public:card.app@alice");
    expect(r.value).toBe("alice in wonderland");
    expect(await bob.publicKeyOf("@alice")).toBe(alice.keys.encryptionPublicKey);
  });

  test("an @sign unknown to the directory is a network error naming the directory", async () => {
    await expect(bob.get("public:card.app@nobody")).rejects.toMatchObject({ code: "AT0007" });
  });

  test("bob reads what alice shared through his own atServer (server-to-server pol) and decrypts it", async () => {
    await alice.put("@bob:hello.app", "hi bob");
    const r = await bob.get("hello.app@alice");
    expect(r.value).toBe("hi bob");
    expect(r.meta.sharedKeyEnc).toBeString();
    await expect(bob.get("nothing.app@alice")).rejects.toBeInstanceOf(AtKeyNotFoundError);
  });

  test("without sharedKeyEnc bob falls back to @bob:shared_key@alice", async () => {
    await alice.put("@bob:seed.app", "x"); // makes sure the shared key exists
    const rec = parseRecord(await alice.command("llookup:all:@bob:seed.app@alice"), "@bob:seed.app@alice")!;
    // re-store the value the way older clients did: same ciphertext, no sharedKeyEnc / pubKeyCS
    await alice.command(`update:isEncrypted:true:ivNonce:${rec.meta.ivNonce}:@bob:old.app@alice ${rec.data}`);
    expect((await bob.get("old.app@alice")).value).toBe("x");
  });

  test("binary values shared with bob arrive byte for byte", async () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255, 10, 13]);
    await alice.put("@bob:bytes.app", bytes);
    expect((await bob.get("bytes.app@alice")).value).toEqual(bytes);
  });

  test("a value shared with bob is not readable by another @sign", async () => {
    const carolServer = await stack.addServer("@carol");
    const { client: carol } = await AtClient.onboard("@carol", carolServer.cramSecret, { ...net("@carol"), keysFile: join(stack.home, "keys", "@carol_key.atKeys") });
    try {
      await expect(carol.get("hello.app@alice")).rejects.toBeInstanceOf(AtKeyNotFoundError);
      await expect(carol.get("@bob:hello.app@alice")).rejects.toBeInstanceOf(AtUsageError);
    } finally {
      carol.close();
    }
  });
});

describe("PKAM key types", () => {
  for (const pkamAlgo of ["ecc_secp256r1", "ed25519"] as const) {
    test(`onboarding with ${pkamAlgo} PKAM keys authenticates again`, async () => {
      const atSign = pkamAlgo === "ed25519" ? "@dan" : "@erin";
      const extra = await startStack({ atSigns: [atSign] });
      try {
        const s = extra.servers.get(atSign)!;
        const opts = { directory: dir(extra), caFile: extra.caFile, home: extra.home };
        const { client, keysFile } = await AtClient.onboard(atSign, s.cramSecret, { ...opts, pkamAlgo, keysFile: join(extra.home, "k.atKeys") });
        client.close();
        expect((await readAtKeysFile(keysFile)).pkamAlgo).toBe(pkamAlgo);
        const again = await AtClient.open({ ...opts, keysFile });
        await again.put("kv", "v");
        expect((await again.get("kv")).value).toBe("v");
        again.close();
      } finally {
        await extra.stop();
      }
    });
  }
});

describe("connection", () => {
  test("a slow reply times out with AT0023 and the next request reconnects", async () => {
    const impatient = AtClient.fromKeys(await readAtKeysFile(aliceKeysFile), { ...net("@alice"), requestTimeoutMs: 300 });
    try {
      await expect(impatient.command("noop:2000")).rejects.toMatchObject({ code: "AT0023" });
      expect(await impatient.command("noop:1")).toBe("ok");
    } finally {
      impatient.close();
    }
  });

  test("survives a server restart on a new port: re-resolves, reconnects, re-authenticates", async () => {
    await bob.put("survivor.app", "still here");
    await stack.servers.get("@bob")!.stop();
    await stack.addServer("@bob"); // same data folder, new port, new directory entry
    expect((await bob.get("survivor.app")).value).toBe("still here");
  });
});


describe("key changes", () => {
  test("when bob's encryption key changes, alice's next client re-wraps the shared key for the new one", async () => {
    await alice.put("@bob:before.app", "old key era");
    const fresh = await generateRsaKeyPair();
    await bob.command(`update:isEncrypted:false:public:publickey@bob ${fresh.publicKey}`);
    const newBob = AtClient.fromKeys({ ...bobKeys, encryptionPublicKey: fresh.publicKey, encryptionPrivateKey: fresh.privateKey }, net("@bob"));
    const alice2 = await AtClient.open({ ...net("@alice"), keysFile: aliceKeysFile });
    try {
      await alice2.put("@bob:after.app", "new key era");
      expect((await newBob.get("after.app@alice")).value).toBe("new key era");
      // what was wrapped for the old key stays readable only with the old key
      await expect(newBob.get("before.app@alice")).rejects.toBeInstanceOf(AtCryptoError);
    } finally {
      await bob.command(`update:isEncrypted:false:public:publickey@bob ${bobKeys.encryptionPublicKey}`);
      newBob.close();
      alice2.close();
    }
  });
});
