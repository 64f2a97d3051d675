/**
 * The allow list (`config:allow:*`, our extension) with real servers: when it is not empty, only the @signs on
 * it reach this server as themselves — their notifications are delivered, everyone else's are refused at
 * `from:`; the block list still wins over it; the lists survive a restart of the owner's connection.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startStack, type Stack } from "../harness.ts";
import type { WireClient } from "../wire_client.ts";
import { eventually, notificationsIn, ownerClient, startMonitor, untilNotifications } from "./helpers.ts";

let stack: Stack;
let alice: WireClient;
let bob: WireClient;
let carolOwner: WireClient;

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@alice", "@bob", "@carol"] });
  [alice, bob, carolOwner] = await Promise.all([ownerClient(stack, "@alice"), ownerClient(stack, "@bob"), ownerClient(stack, "@carol")]);
});
afterAll(async () => {
  for (const c of [alice, bob, carolOwner]) c.close();
  await stack.stop();
});

const statusAt = async (c: WireClient, id: string) => (await c.send(`notify:status:${id}`)).replace(/^data:/, "");

test("only allowed @signs deliver; the block list wins; removing the last entry opens the server again", async () => {
  const carol = await ownerClient(stack, "@carol");
  startMonitor(carol, " allow");
  carol.raw("noop:0\n");
  await carol.until((r) => r.includes("data:ok"));
  try {
    expect(await carolOwner.send("config:allow:show")).toBe("data:null");
    expect(await carolOwner.send("config:allow:add:@bob")).toBe("data:success");
    expect(await carolOwner.send("config:allow:show")).toBe('data:["@bob"]');

    await bob.send("notify:id:allow-bob:@carol:allow@bob:v");
    await alice.send("notify:id:allow-alice:@carol:allow@alice:v");
    await eventually(async () => (await statusAt(bob, "allow-bob")) === "delivered");
    await eventually(async () => (await statusAt(alice, "allow-alice")) === "errored");
    expect(notificationsIn(carol.chunks.join("")).map((n) => n.id)).toEqual(["allow-bob"]);

    // Blocked beats allowed.
    expect(await carolOwner.send("config:block:add:@bob")).toBe("data:success");
    await bob.send("notify:id:allow-bob-2:@carol:allow@bob:v");
    await eventually(async () => (await statusAt(bob, "allow-bob-2")) === "errored");

    // With an empty allow list (and bob unblocked) everyone may deliver again; retries bring the refused ones in.
    expect(await carolOwner.send("config:block:remove:@bob")).toBe("data:success");
    expect(await carolOwner.send("config:allow:remove:@bob")).toBe("data:success");
    expect(await carolOwner.send("config:allow:show")).toBe("data:null");
    await eventually(async () => (await statusAt(alice, "allow-alice")) === "delivered");
    await untilNotifications(carol, 3);
    expect(notificationsIn(carol.chunks.join("")).map((n) => n.id).sort()).toEqual(["allow-alice", "allow-bob", "allow-bob-2"]);
  } finally {
    carol.close();
  }
});

test("an open pol session of an @sign taken off the allow list is cut on its next line; the sender sees errored", async () => {
  expect(await carolOwner.send("config:allow:add:@bob")).toBe("data:success");
  try {
    await alice.send("notify:id:refused-at-from:@carol:x@alice:v");
    await eventually(async () => (await statusAt(alice, "refused-at-from")) === "errored");
  } finally {
    expect(await carolOwner.send("config:allow:remove:@bob")).toBe("data:success");
  }
});

test("a malformed allow-list line is AT0003 and the connection stays", async () => {
  expect(await carolOwner.send("config:allow:add:bob")).toMatch(/^error:AT0003/);
  expect(await carolOwner.send("config:allow:list")).toMatch(/^error:AT0003/);
  expect(await carolOwner.send("noop:0")).toBe("data:ok");
});
