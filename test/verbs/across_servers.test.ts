/**
 * The 3.16 forms that cross servers (real servers, real directory, TLS): notify:multi (one request from @alice's
 * client, one notification per recipient delivered to @bob's and @carol's servers, value and appMetadata intact),
 * and the origin's times kept by the recipient's cached copies.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startStack, type Stack } from "../harness.ts";
import { connectWire, type WireClient } from "../wire_client.ts";
import { eventually, ownerClient, registeredMonitor } from "../notify/helpers.ts";

let stack: Stack;
let alice: WireClient;

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@alice", "@bob", "@carol"] });
  alice = await ownerClient(stack, "@alice");
});
afterAll(async () => {
  alice.close();
  await stack.stop();
});

const monitor = (atSign: string) => registeredMonitor(stack, atSign);

const APP = btoa(JSON.stringify({ providerId: "at/symmetric/AES/GCM/multirecipient", ckKid: "abcd", iv: "aXY=" }));

test("each recipient's monitor gets the value and the appMetadata; the answer maps recipient to id", async () => {
  const bob = await monitor("@bob");
  const carol = await monitor("@carol");
  try {
    const answer = await alice.send(`notify:multi:ttln:900000:isEncrypted:true:appMetadata:${APP}:@bob,@carol,@BOB:msg.chat.myapp@alice:CIPHERTEXT`);
    const ids = JSON.parse(answer.replace(/^data:/, ""));
    expect(Object.keys(ids)).toEqual(["@bob", "@carol"]);
    for (const [who, c] of [["@bob", bob], ["@carol", carol]] as const) {
      const all = await c.until((r) => r.includes(`"id":"${ids[who]}"`));
      const start = all.indexOf(`notification: {"id":"${ids[who]}"`);
      const n = JSON.parse(all.slice(start + "notification: ".length, all.indexOf("\n", start)));
      expect(n).toMatchObject({ from: "@alice", to: who, key: `${who}:msg.chat.myapp@alice`, value: "CIPHERTEXT", isEncrypted: true });
      expect(n.metadata.appMetadata).toBe(APP);
    }
  } finally {
    bob.close();
    carol.close();
  }
});

test("refused: the fields no single value suits (AT0003, naming it), another's key (AT0009), no auth (AT0401)", async () => {
  for (const field of ["ttr:60000", "sharedKeyEnc:abc", "pubKeyHash:ab", "dataSignature:c2ln"]) {
    const answer = await alice.send(`notify:multi:${field}:@bob:msg.chat.myapp@alice:v`);
    expect(answer).toStartWith("error:AT0003-");
    expect(answer).toContain(`notify:multi does not take ${field.split(":")[0]}`);
  }
  expect(await alice.send("notify:multi:@bob,sitaram:msg.chat.myapp@alice:v")).toStartWith("error:AT0003-");
  expect(await alice.send("notify:multi:@bob:msg.chat.myapp@colin:v")).toStartWith("error:AT0009-");
  const s = stack.servers.get("@alice")!;
  const anon = await connectWire(s.port, stack.ca);
  try {
    expect(await anon.send("notify:multi:@bob:msg.chat.myapp@alice:v")).toStartWith("error:AT0401-");
  } finally {
    anon.close();
  }
});

test("server to server: the asserted cAt/uAt of a notification become the recipient's cached copy's times", async () => {
  const cAt = "2026-01-02T03:04:05.678901Z";
  const uAt = "2026-02-03T04:05:06.789Z";
  expect(await alice.send(`notify:update:ttr:-1:cAt:${cAt}:uAt:${uAt}:isEncrypted:true:@bob:times.chat@alice:djE=`)).toMatch(/^data:[\w-]+$/);
  const bob = await ownerClient(stack, "@bob");
  try {
    let meta = "";
    await eventually(async () => (meta = await bob.send("llookup:meta:cached:@bob:times.chat@alice")).startsWith("data:{"));
    const m = JSON.parse(meta.slice(5));
    expect(m.createdAt).toBe("2026-01-02 03:04:05.678Z");
    expect(m.updatedAt).toBe("2026-02-03 04:05:06.789Z");
  } finally {
    bob.close();
  }
});

test("plookup: a cached data key keeps the origin's createdAt and updatedAt", async () => {
  const cAt = "2025-06-07T08:09:10.111Z";
  expect(await alice.send(`update:cAt:${cAt}:uAt:2025-07-08T09:10:11.222Z:ttr:-1:public:card.wavi@alice hello`)).toMatch(/^data:\d+$/);
  const bob = await ownerClient(stack, "@bob");
  try {
    expect(await bob.send("plookup:card.wavi@alice")).toBe("data:hello");
    const m = JSON.parse((await bob.send("llookup:meta:cached:public:card.wavi@alice")).slice(5));
    expect(m.createdAt).toBe("2025-06-07 08:09:10.111Z");
    expect(m.updatedAt).toBe("2025-07-08 09:10:11.222Z");
  } finally {
    bob.close();
  }
});

test("a shared write's notification carries the record's appMetadata to the recipient's monitor", async () => {
  const bob = await monitor("@bob");
  try {
    expect(await alice.send(`update:isEncrypted:true:appMetadata:${APP}:@bob:appmeta.chat@alice Y2lwaGVy`)).toMatch(/^data:\d+$/);
    const all = await bob.until((r) => r.includes('"key":"@bob:appmeta.chat@alice"'));
    const at = all.indexOf('"key":"@bob:appmeta.chat@alice"');
    const n = JSON.parse(all.slice(all.lastIndexOf("notification: ", at) + "notification: ".length, all.indexOf("\n", at)));
    expect(n).toMatchObject({ key: "@bob:appmeta.chat@alice", value: "Y2lwaGVy" });
    expect(n.metadata.appMetadata).toBe(APP);
  } finally {
    bob.close();
  }
});
