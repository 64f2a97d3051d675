/**
 * Reading another @sign's public data through the directory: plookup and owner lookup of `public:` keys, the
 * `cached:public:` copy, bypassCache, remote misses, unknown @signs. Real directory, two real servers.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startStack, type Stack } from "./harness.ts";
import { cramAuth } from "./server_fixture.ts";
import { connectWire, type WireClient } from "./wire_client.ts";

let stack: Stack;
let alice: WireClient;
let bob: WireClient;

async function owner(atSign: string): Promise<WireClient> {
  const s = stack.servers.get(atSign)!;
  const c = await connectWire(s.port, stack.ca);
  const r = await cramAuth(c, atSign, s.cramSecret);
  if (r !== "data:success") throw new Error(`cram failed: ${r}`);
  return c;
}
const json = (answer: string) => JSON.parse(answer.replace(/^data:/, "")) as any;

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@alice", "@bob"] });
  alice = await owner("@alice");
  bob = await owner("@bob");
  expect(await bob.send("update:isEncrypted:false:public:card.wavi@bob hello-from-bob")).toMatch(/^data:\d+$/);
  expect(await bob.send("update:public:publickey@bob MIIBfake")).toMatch(/^data:\d+$/);
});
afterAll(async () => {
  alice.close();
  bob.close();
  await stack.stop();
});

test("plookup fetches another @sign's public value through the directory and caches it", async () => {
  expect(await alice.send("plookup:card.wavi@bob")).toBe("data:hello-from-bob");
  const fresh = json(await alice.send("plookup:all:card.wavi@bob"));
  expect(fresh.data).toBe("hello-from-bob");
  const cached = json(await alice.send("llookup:all:cached:public:card.wavi@bob"));
  expect(cached.key).toBe("cached:public:card.wavi@bob");
  expect(cached.data).toBe("hello-from-bob");
  expect(cached.metaData.isEncrypted).toBe(false);
});

test("the cached copy serves until bypassCache refreshes it", async () => {
  await alice.send("plookup:card.wavi@bob");
  expect(await bob.send("update:public:card.wavi@bob changed")).toMatch(/^data:\d+$/);
  expect(json(await alice.send("plookup:all:card.wavi@bob")).key).toBe("cached:public:card.wavi@bob");
  expect(await alice.send("plookup:bypassCache:true:card.wavi@bob")).toBe("data:changed");
  expect(await alice.send("llookup:cached:public:card.wavi@bob")).toBe("data:changed");
});

test("the public key is cached with ttr -1; owner lookup of public: keys works too", async () => {
  expect(await alice.send("plookup:publickey@bob")).toBe("data:MIIBfake");
  expect(json(await alice.send("llookup:meta:cached:public:publickey@bob")).ttr).toBe(-1);
  expect(await alice.send("lookup:public:card.wavi@bob")).toBe("data:changed");
});

test("a remote miss is AT0015 and drops the cached copy; an unknown @sign is AT0007", async () => {
  await alice.send("plookup:bypassCache:true:card.wavi@bob");
  expect(await bob.send("delete:public:card.wavi@bob")).toMatch(/^data:\d+$/);
  expect(await alice.send("plookup:bypassCache:true:card.wavi@bob")).toStartWith("error:AT0015-");
  expect(await alice.send("llookup:cached:public:card.wavi@bob")).toStartWith("error:AT0015-");
  expect(await alice.send("plookup:card.wavi@nobody")).toStartWith("error:AT0007-");
});

test("a lookup of data @bob did not share with @alice is an error, not a hang", async () => {
  // Served over a pol session once server-to-server auth exists (AT0015), AT0021 before that.
  expect(await alice.send("lookup:card.wavi@bob")).toMatch(/^error:AT00(15|21)-/);
});

test("scan:@bob relays over the pol session: @alice sees what @bob shared with her, prefix removed", async () => {
  expect(await bob.send("update:@alice:scan.shared@bob for-alice")).toMatch(/^data:\d+$/);
  expect(await bob.send("update:@carol:scan.other@bob for-carol")).toMatch(/^data:\d+$/);
  const listed = json(await alice.send("scan:@bob")) as string[];
  expect(listed).toContain("scan.shared@bob");
  expect(listed.some((k) => k.includes("scan.other"))).toBe(false);
  expect(json(await alice.send("scan:@bob nomatch"))).toEqual([]);
});
