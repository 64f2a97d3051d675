/**
 * Grants on every verb (ATPROTOCOL.md §8.4), table-driven: an app enrolled with `wavi:rw, buzz:r` runs each
 * key verb on a key in `wavi` (rw), in `buzz` (r) and in `other` (not granted); reads need r or rw, writes
 * need rw, and everything else is AT0009. Then the verbs without a key (scan, sync, stats, config, enroll,
 * otp, keys, monitor) and the reserved/management keys an app must not touch.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startServerFixture, type ServerFixture } from "../server_fixture.ts";
import type { WireClient } from "../wire_client.ts";
import { connectApkam, dataJson, enrollApp, enrollLine, onboardManager } from "./wire_enroll.ts";

let f: ServerFixture;
let manager: WireClient;
let app: WireClient;
let appId: string;
let managerId: string;

const NAMESPACES = { wavi: "rw", buzz: "r" } as const;
type Ns = "wavi" | "buzz" | "other";
const ACCESS: Record<Ns, "rw" | "r" | "none"> = { wavi: "rw", buzz: "r", other: "none" };

beforeAll(async () => {
  f = await startServerFixture();
  managerId = await onboardManager(f);
  manager = await connectApkam(f, managerId);
  for (const ns of ["wavi", "buzz", "other"]) {
    expect(await manager.send(`update:phone.${ns}@alice v-${ns}`)).toMatch(/^data:\d+$/);
    expect(await manager.send(`update:public:card.${ns}@alice c-${ns}`)).toMatch(/^data:\d+$/);
  }
  appId = await enrollApp(f, manager, "wavi", NAMESPACES);
  app = await connectApkam(f, appId);
});
afterAll(async () => {
  app?.close();
  manager?.close();
  await f?.stop();
});

/** Each key verb, the access it needs, and its line for a key in namespace `ns`. */
const KEY_VERBS: { verb: string; need: "r" | "rw"; line: (ns: Ns) => string }[] = [
  { verb: "update", need: "rw", line: (ns) => `update:new.${ns}@alice x` },
  { verb: "update:meta", need: "rw", line: (ns) => `update:meta:phone.${ns}@alice:ttr:-1` },
  { verb: "update:json", need: "rw", line: (ns) => `update:json:{"atKey":"json.${ns}","value":"x","sharedBy":"@alice"}` },
  { verb: "delete", need: "rw", line: (ns) => `delete:gone.${ns}@alice` },
  { verb: "llookup", need: "r", line: (ns) => `llookup:phone.${ns}@alice` },
  { verb: "lookup", need: "r", line: (ns) => `lookup:phone.${ns}@alice` },
  { verb: "plookup", need: "r", line: (ns) => `plookup:card.${ns}@alice` },
  { verb: "notify", need: "rw", line: (ns) => `notify:update:@bob:phone.${ns}@alice:hello` },
];

const CASES = KEY_VERBS.flatMap((v) => (["wavi", "buzz", "other"] as const).map((ns) => ({ ...v, ns, allowed: ACCESS[ns] === "rw" || (ACCESS[ns] === "r" && v.need === "r") })));

describe("key verbs x namespace x access", () => {
  test.each(CASES)("$verb on $ns (needs $need): allowed=$allowed", async ({ line, ns, allowed }) => {
    const answer = await app.send(line(ns));
    if (allowed) expect(answer).not.toStartWith("error:AT0009");
    else expect(answer).toStartWith("error:AT0009-UnAuthorized client in request : Connection with enrollment ID");
    // The same line on the manager (__manage + *) is never refused for grants.
    expect(await manager.send(line(ns))).not.toStartWith("error:AT0009");
  });

  test("allowed reads return the value", async () => {
    expect(await app.send("llookup:phone.wavi@alice")).toBe("data:v-wavi");
    expect(await app.send("llookup:phone.buzz@alice")).toBe("data:v-buzz");
    expect(await app.send("plookup:card.buzz@alice")).toBe("data:c-buzz");
  });
});

describe("filtered verbs", () => {
  test("scan lists public keys and granted namespaces only", async () => {
    const keys = JSON.parse((await app.send("scan")).slice(5)) as string[];
    expect(keys).toContain("phone.wavi@alice");
    expect(keys).toContain("phone.buzz@alice");
    expect(keys).not.toContain("phone.other@alice");
    expect(keys).toContain("public:card.other@alice");
    expect(keys.some((k) => k.includes("__manage"))).toBe(false);
    const all = JSON.parse((await manager.send("scan")).slice(5)) as string[];
    expect(all).toContain("phone.other@alice");
  });

  test("sync:from leaves out keys the enrollment cannot read", async () => {
    const entries = JSON.parse((await app.send("sync:from:-1:limit:1000")).slice(5)) as { atKey: string }[];
    const keys = entries.map((e) => e.atKey);
    expect(keys).toContain("phone.wavi@alice");
    expect(keys).toContain("phone.buzz@alice");
    expect(keys).not.toContain("phone.other@alice");
    expect(keys.some((k) => k.endsWith(".__manage@alice"))).toBe(false);
  });

  test("stats:3 with a regex counts only keys the enrollment can read (no existence leak)", async () => {
    const lastId = async (c: WireClient, regex: string) => (JSON.parse((await c.send(`stats:3:${regex}`)).slice(5)) as { value: string }[])[0]!.value;
    const otherId = await lastId(manager, "phone\\.other");
    expect(otherId).toMatch(/^\d+$/);
    // The app's answer may be an always-synced key's commit, never the ungranted key's.
    expect(Number(await lastId(app, "phone\\.other"))).toBeLessThan(Number(otherId));
    expect(await lastId(app, "phone\\.wavi")).toBe(await lastId(manager, "phone\\.wavi"));
  });
});

describe("verbs without a key", () => {
  const ROWS: { line: () => string; app: "ok" | "denied"; why: string }[] = [
    { line: () => "stats:1", app: "ok", why: "plain metrics" },
    { line: () => "stats:15", app: "denied", why: "lists every key: needs *" },
    { line: () => "config:block:show", app: "denied", why: "account-wide: needs *" },
    { line: () => "otp:get", app: "denied", why: "needs __manage" },
    { line: () => "otp:put:abcdef123", app: "denied", why: "needs __manage" },
    { line: () => enrollLine("approve", { enrollmentId: managerId, encryptedDefaultEncryptionPrivateKey: "a", encryptedDefaultSelfEncryptionKey: "b" }), app: "denied", why: "needs __manage" },
    { line: () => enrollLine("revoke", { enrollmentId: managerId }), app: "denied", why: "needs __manage" },
    { line: () => enrollLine("fetch", { enrollmentId: managerId }), app: "denied", why: "another enrollment" },
    { line: () => enrollLine("fetch", { enrollmentId: appId }), app: "ok", why: "its own enrollment" },
    { line: () => `keys:get:keyName:${appId}.default_enc_private_key.__manage@alice`, app: "ok", why: "its own wrapped key" },
    { line: () => `keys:get:keyName:${managerId}.default_enc_private_key.__manage@alice`, app: "denied", why: "another enrollment's key" },
    { line: () => "update:public:publickey@alice MIIB", app: "denied", why: "reserved key writes need *" },
    { line: () => "update:@bob:shared_key@alice wrapped", app: "ok", why: "shared-key records are open to every app that shares" },
    { line: () => "keys:get:keyName:privatekey:at_pkam_publickey", app: "denied", why: "keys:get never hands out privatekey: keys" },
    { line: () => "update:privatekey:at_pkam_publickey MIIB", app: "denied", why: "the legacy PKAM key needs * and __manage" },
    { line: () => `update:${managerId}.new.enrollments.__manage@alice {}`, app: "denied", why: "enrollment records need __manage" },
    { line: () => "llookup:private:zzzzzz.__otp@alice", app: "denied", why: "OTP keys need __manage" },
    { line: () => "llookup:@alice:signing_privatekey@alice", app: "denied", why: "the s2s signing private key needs __manage or *" },
    { line: () => "keys:get:keyName:@alice:signing_privatekey@alice", app: "denied", why: "keys:get does not hand out the signing private key either" },
  ];
  test.each(ROWS)("$why", async ({ line, app: expected }) => {
    const answer = await app.send(line());
    if (expected === "ok") expect(answer).toStartWith("data:");
    else expect(answer).toStartWith("error:AT0009");
  });

  test("the s2s signing private key is read with __manage (or *), never by an app without them", async () => {
    expect(await manager.send("llookup:@alice:signing_privatekey@alice")).toStartWith("data:");
    const keeper = await connectApkam(f, await enrollApp(f, manager, "keeper", { wavi: "rw", __manage: "r" }));
    try {
      expect(await keeper.send("llookup:@alice:signing_privatekey@alice")).toStartWith("data:");
      expect(await keeper.send("update:@alice:signing_privatekey@alice forged")).toStartWith("error:AT0009");
    } finally {
      keeper.close();
    }
    expect(await app.send("llookup:@alice:signing_privatekey@alice")).toStartWith("error:AT0009");
  });

  test("enroll:list on an app without __manage shows only its own enrollment", async () => {
    const list = dataJson(await app.send("enroll:list"));
    expect(Object.keys(list)).toEqual([`${appId}.new.enrollments.__manage@alice`]);
  });

  test("keys:put stores in a granted namespace with rw only", async () => {
    expect(await app.send("keys:put:public:namespace:wavi:keyName:sig v1")).toBe("data:-1");
    expect(await app.send("keys:put:public:namespace:buzz:keyName:sig v1")).toStartWith("error:AT0009");
    expect(JSON.parse((await app.send("keys:get:keyName:public:sig.__public_keys.wavi@alice")).slice(5))).toMatchObject({ value: "v1", enrollmentId: appId });
  });

  test("keys on a connection without an enrollment is AT0011 and the connection stays", async () => {
    const c = await f.connectOwner().catch(() => null);
    // CRAM is off once onboarded; an unauthenticated connection gets the auth error first.
    const plain = c ?? (await f.connect());
    expect(await plain.send("keys:get:public")).toMatch(/^error:AT0(011|401)/);
    expect(plain.isClosed()).toBe(false);
    plain.close();
  });
});
