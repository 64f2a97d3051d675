/**
 * The 3.16-era verbs over real TLS against a real server: caller-set times, `:nc`, immutable records and
 * `delete:force`, appMetadata, pubKeyHash, `delete:dAt`, `scan:cl`, `info` (grammar level, mtls), stats 16/17 and
 * `to:@atSign`. notify:multi, which needs a second server, is in notify_multi.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dartDate } from "../../core/wire/index.ts";
import { startServerFixture, type ServerFixture } from "../server_fixture.ts";
import type { WireClient } from "../wire_client.ts";

let f: ServerFixture;
let owner: WireClient;
let anon: WireClient;

beforeAll(async () => {
  f = await startServerFixture();
  owner = await f.connectOwner();
  anon = await f.connect();
});
afterAll(async () => {
  owner.close();
  anon.close();
  await f.stop();
});

const body = (answer: string) => JSON.parse(answer.replace(/^data: ?/, "")) as any;
const meta = async (key: string) => body(await owner.send(`llookup:meta:${key}`));
const commitLog = async (regex: string) => body(await owner.send(`scan:cl ${regex}`)) as { atKey: string; operation: string; commitId: number; opTime: string }[];

const T_CREATED = "2026-01-02T03:04:05.678901Z";
const T_UPDATED = "2026-02-03T04:05:06.789Z";
const T_AVAILABLE = "2026-02-03T04:05:07Z";
const T_EXPIRES = "2099-02-03T04:05:07.5Z";

describe("caller-set times", () => {
  test("cAt/uAt/eAt/aAt are stored to the millisecond; ttl and ttb are derived; uAt is the commit time", async () => {
    expect(await owner.send(`update:cAt:${T_CREATED}:uAt:${T_UPDATED}:eAt:${T_EXPIRES}:aAt:${T_AVAILABLE}:@bob:times.wavi@alice v`)).toMatch(/^data:\d+$/);
    const m = await meta("@bob:times.wavi@alice");
    expect(m.createdAt).toBe(dartDate(Date.parse("2026-01-02T03:04:05.678Z")));
    expect(m.updatedAt).toBe(dartDate(Date.parse(T_UPDATED)));
    expect(m.availableAt).toBe(dartDate(Date.parse(T_AVAILABLE)));
    expect(m.expiresAt).toBe(dartDate(Date.parse("2099-02-03T04:05:07.500Z")));
    expect(m.ttb).toBe(Date.parse(T_AVAILABLE) - Date.parse(T_UPDATED));
    expect(m.ttl).toBe(Date.parse(T_EXPIRES) - Date.parse(T_AVAILABLE));
    const [entry] = await commitLog("times\\.wavi");
    expect(entry).toMatchObject({ atKey: "@bob:times.wavi@alice", operation: "*", opTime: "2026-02-03T04:05:06.789Z" });
  });

  test("an asserted cAt wins on update too; a time no client can read back is AT0003", async () => {
    await owner.send("update:later.wavi@alice v1");
    await owner.send(`update:cAt:${T_CREATED}:later.wavi@alice v2`);
    expect((await meta("later.wavi@alice")).createdAt).toBe(dartDate(Date.parse("2026-01-02T03:04:05.678Z")));
    expect(await owner.send("update:cAt:2026-13-45T99:99:99Z:later.wavi@alice v")).toStartWith("error:AT0003-");
    expect(await owner.send("update:cAt:2026-01-02:later.wavi@alice v")).toStartWith("error:AT0003-");
  });
});

describe(":nc (no commit-log entry)", () => {
  test("update:nc answers data:-1, purges the key's entry, and sync no longer offers the key", async () => {
    const id = Number((await owner.send("update:nc.wavi@alice v1")).slice(5));
    expect((await commitLog("^nc\\.wavi")).map((e) => e.commitId)).toEqual([id]);
    expect(await owner.send("update:nc:nc.wavi@alice v2")).toBe("data:-1");
    expect(await owner.send("llookup:nc.wavi@alice")).toBe("data:v2");
    expect(await commitLog("^nc\\.wavi")).toEqual([]);
    expect(body(await owner.send(`sync:from:${id - 1}`)).map((e: any) => e.atKey)).not.toContain("nc.wavi@alice");
  });

  test("monitors hear no stats notification for a :nc write (it made no commit)", async () => {
    const mon = await f.connectOwner();
    try {
      mon.raw("monitor statsNotification\n");
      mon.raw("noop:0\n");
      await mon.until((r) => r.includes("data:ok"));
      expect(await owner.send("update:nc:quiet.wavi@alice v")).toBe("data:-1");
      const id = (await owner.send("update:loud.wavi@alice v")).slice(5);
      const seen = await mon.until((r) => r.includes(`"value":"${id}"`));
      // Lines run in order: the first stats notification after the monitor is the committed write's.
      expect(seen).not.toContain('"value":"-1"');
    } finally {
      mon.close();
    }
  });

  test("update:meta:nc, update:nc:json and delete:nc write no entry either", async () => {
    expect(await owner.send("update:meta:nc:ncmeta.wavi@alice:ttr:60")).toBe("data:-1");
    expect(await owner.send('update:nc:json:{"atKey":"ncjson.wavi","value":"v","sharedBy":"@alice"}')).toBe("data:-1");
    expect(await owner.send("llookup:ncjson.wavi@alice")).toBe("data:v");
    await owner.send("update:gone.wavi@alice v");
    expect(await owner.send("delete:nc:gone.wavi@alice")).toBe("data:-1");
    expect(await commitLog("^(ncmeta|ncjson|gone)\\.wavi")).toEqual([]);
  });
});

describe("immutable records", () => {
  test("refuse update, update:meta and delete (AT0009) until delete:force", async () => {
    expect(await owner.send("update:immutable:true:public:signing_key.app@alice K1")).toMatch(/^data:\d+$/);
    expect((await meta("public:signing_key.app@alice")).immutable).toBe(true);
    expect(await owner.send("update:public:signing_key.app@alice K2")).toStartWith("error:AT0009-");
    expect(await owner.send("update:meta:public:signing_key.app@alice:ttl:5")).toStartWith("error:AT0009-");
    expect(await owner.send('update:json:{"atKey":"signing_key.app","value":"K3","sharedBy":"@alice","metadata":{"isPublic":true}}')).toStartWith("error:AT0009-");
    expect(await owner.send("delete:public:signing_key.app@alice")).toStartWith("error:AT0009-");
    expect(await owner.send("llookup:public:signing_key.app@alice")).toBe("data:K1");
    expect(await owner.send("delete:force:public:signing_key.app@alice")).toMatch(/^data:\d+$/);
    expect(await owner.send("llookup:public:signing_key.app@alice")).toStartWith("error:AT0015-");
    // Gone, it may be created again.
    expect(await owner.send("update:public:signing_key.app@alice K4")).toMatch(/^data:\d+$/);
  });

  test("an expired immutable record blocks nothing, and the new record inherits nothing from it", async () => {
    expect(await owner.send("update:immutable:true:eAt:2020-01-01T00:00:00Z:lapsed.app@alice v1")).toMatch(/^data:\d+$/);
    expect(await owner.send("update:lapsed.app@alice v2")).toMatch(/^data:\d+$/);
    expect(await owner.send("llookup:lapsed.app@alice")).toBe("data:v2");
    const m = await meta("lapsed.app@alice");
    expect(m.immutable).toBeUndefined();
    expect(m.expiresAt).toBeUndefined();
    expect(m.version).toBe(0);
  });
});

describe("metadata fields", () => {
  test("appMetadata is stored and returned; one that is not base64 JSON with a providerId is AT0003", async () => {
    const app = btoa(JSON.stringify({ providerId: "at/symmetric/AES/GCM/group", ckKid: "abcd" }));
    expect(await owner.send(`update:isEncrypted:true:appMetadata:${app}:@bob:app.wavi@alice djE=`)).toMatch(/^data:\d+$/);
    expect((await meta("@bob:app.wavi@alice")).appMetadata).toBe(app);
    // Kept by an update that does not mention it, like every other field.
    await owner.send("update:isEncrypted:true:@bob:app.wavi@alice djI=");
    expect((await meta("@bob:app.wavi@alice")).appMetadata).toBe(app);
    expect(await owner.send(`update:appMetadata:${btoa("[1]")}:@bob:app.wavi@alice v`)).toStartWith("error:AT0003-");
  });

  test("pubKeyHash with hashingAlgo, encKeyName and encAlgo; pubKeyCS still accepted", async () => {
    expect(await owner.send("update:sharedKeyEnc:ZW5j:pubKeyCS:md5sum:pubKeyHash:ab12:hashingAlgo:sha256:encKeyName:k1:encAlgo:AES:@bob:shared_key@alice v")).toMatch(/^data:\d+$/);
    const m = await meta("@bob:shared_key@alice");
    expect(m).toMatchObject({ pubKeyCS: "md5sum", pubKeyHash: { hash: "ab12", hashingAlgo: "sha256" }, encKeyName: "k1", encAlgo: "AES" });
    // The canonical order on the reply: pubKeyHash right after pubKeyCS, immutable and appMetadata last.
    const keys = Object.keys(m);
    expect(keys.indexOf("pubKeyHash")).toBe(keys.indexOf("pubKeyCS") + 1);
  });
});

describe("delete:dAt and scan:cl", () => {
  test("dAt is the delete entry's opTime; scan:cl lists delete entries in commit id order", async () => {
    await owner.send("update:dated.wavi@alice v");
    expect(await owner.send("delete:dAt:2026-03-04T05:06:07.123456Z:dated.wavi@alice")).toMatch(/^data:\d+$/);
    const entries = await commitLog("\\.wavi@alice$");
    expect(entries.find((e) => e.atKey === "dated.wavi@alice")).toMatchObject({ operation: "-", opTime: "2026-03-04T05:06:07.123Z" });
    const ids = entries.map((e) => e.commitId);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(await owner.send("delete:dAt:someday:dated.wavi@alice")).toStartWith("error:AT0003-");
  });

  test("scan:cl is the owner's (AT0401 without auth) and takes no @sign (AT0022)", async () => {
    expect(await anon.send("scan:cl")).toStartWith("error:AT0401-");
    expect(await owner.send("scan:cl:@bob")).toStartWith("error:AT0022-");
    // Hidden keys only with showhidden, as scan.
    await owner.send("update:_hidden.wavi@alice v");
    expect((await commitLog("_hidden")).length).toBe(0);
    expect(body(await owner.send("scan:cl:showhidden:true _hidden")).length).toBe(1);
  });
});

describe("info, stats, to", () => {
  test("info reports the grammar level and lists notify.multi; info:mtls shows the client chain", async () => {
    const info = body(await anon.send("info"));
    expect(info.version).toBe("3.16.3");
    expect(info.features.map((x: any) => x.name)).toContain("notify.multi");
    expect(body(await anon.send("info:brief")).features.map((x: any) => x.name)).toContain("notify.multi");
    const mtls = body(await anon.send("info:mtls"));
    expect(mtls.mtls_fullchain).toStartWith("-----BEGIN CERTIFICATE-----");
    const brief = body(await anon.send("info:mtlsbrief"));
    expect(brief.mtls_fullchain_last_modified).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(brief.mtls_privkey_last_modified).toBe(brief.mtls_fullchain_last_modified);
  });

  test("stats:16 counts inbound connections by kind; stats:17 names them", async () => {
    const [summary] = body(await owner.send("stats:16"));
    expect(summary).toMatchObject({ id: "16", name: "activeInboundConnectionsSummary" });
    expect(summary.value.selfAuthenticated.count).toBeGreaterThanOrEqual(1);
    expect(summary.value.unAuthenticated.count).toBeGreaterThanOrEqual(1);
    const [detailed] = body(await owner.send("stats:17"));
    expect(detailed.value.selfAuthenticated.list[0]).toMatchObject({ from: "@alice" });
    expect(detailed.value.selfAuthenticated.list[0].created).toMatch(/Z$/);
  });

  test("to:@alice answers both public keys without auth; another @sign is AT0007", async () => {
    const peer = await f.connect();
    try {
      expect(body(await peer.send("to:@alice")).publickey).toBeNull(); // not onboarded yet
      await owner.send("update:public:publickey@alice MIIBpub");
      const keys = body(await peer.send("to:@alice"));
      expect(Object.keys(keys)).toEqual(["publickey", "signing_publickey"]);
      expect(keys.publickey).toBe((await owner.send("llookup:public:publickey@alice")).slice(5));
      expect(keys.signing_publickey).toBe((await owner.send("llookup:public:signing_publickey@alice")).slice(5));
      expect(body(await peer.send("to:alice"))).toEqual(keys);
      expect(await peer.send("to:@bob")).toStartWith("error:AT0007-");
      // The connection lives on: the peer goes on with its lookups.
      expect(await peer.send("lookup:publickey@alice")).toStartWith("data:");
    } finally {
      peer.close();
    }
  });
});
