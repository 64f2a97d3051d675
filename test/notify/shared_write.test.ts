/**
 * The notification a shared write sends by itself (the reference's autoNotify, ATPROTOCOL.md §7.3), as the
 * recipient's monitor sees it: the value always travels, `isEncrypted` is the writer's flag or false, and
 * `update:json` writes send it too. Real servers and directory; clients are raw TLS lines.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startStack, type Stack } from "../harness.ts";
import type { WireClient } from "../wire_client.ts";
import { notificationsIn, ownerClient, startMonitor } from "./helpers.ts";

let stack: Stack;
let alice: WireClient;
let bob: WireClient;

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@alice", "@bob"] });
  alice = await ownerClient(stack, "@alice");
  bob = await ownerClient(stack, "@bob");
  startMonitor(bob, " sw");
  bob.raw("noop:0\n");
  await bob.until((r) => r.includes("data:ok"));
});
afterAll(async () => {
  alice.close();
  bob.close();
  await stack.stop();
});

/** The notification about `key` that bob's monitor received. */
async function received(key: string): Promise<any> {
  const all = await bob.until((r) => notificationsIn(r).some((n) => n.key === key));
  return notificationsIn(all).find((n) => n.key === key);
}

test("a plain shared update sends its value, marked isEncrypted:false (no ttr needed)", async () => {
  expect(await alice.send("update:@bob:plain.sw@alice hello bob")).toMatch(/^data:\d+$/);
  const n = await received("@bob:plain.sw@alice");
  expect(n).toMatchObject({ from: "@alice", to: "@bob", operation: "update", value: "hello bob", isEncrypted: false });
});

test("the exact shared record the C SDK writes (ivNonce, no isEncrypted) arrives with its value and ivNonce", async () => {
  expect(await alice.send("update:ivNonce:AAECAwQFBgcICQoLDA0ODw==:@bob:c.sw@alice Y2lwaGVydGV4dA==")).toMatch(/^data:\d+$/);
  const n = await received("@bob:c.sw@alice");
  expect(n).toMatchObject({ value: "Y2lwaGVydGV4dA==", isEncrypted: false });
  expect(n.metadata.ivNonce).toBe("AAECAwQFBgcICQoLDA0ODw==");
});

test("an encrypted shared update keeps isEncrypted:true and what decrypts it", async () => {
  expect(await alice.send("update:isEncrypted:true:sharedKeyEnc:c2tl:ivNonce:aXY=:@bob:enc.sw@alice Y2lwaGVy")).toMatch(/^data:\d+$/);
  const n = await received("@bob:enc.sw@alice");
  expect(n).toMatchObject({ value: "Y2lwaGVy", isEncrypted: true });
  expect(n.metadata).toMatchObject({ ivNonce: "aXY=", sharedKeyEnc: "c2tl" });
});

test("update:json of a shared key notifies the same way", async () => {
  const body = { atKey: "json.sw", sharedBy: "@alice", sharedWith: "@bob", value: "from json", metadata: { isEncrypted: false } };
  expect(await alice.send(`update:json:${JSON.stringify(body)}`)).toMatch(/^data:\d+$/);
  const n = await received("@bob:json.sw@alice");
  expect(n).toMatchObject({ from: "@alice", value: "from json", isEncrypted: false });
});
