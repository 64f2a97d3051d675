/**
 * Text messages are encrypted end to end on a real stack: alice's SDK seals the text for bob with a fresh
 * ivNonce, both atServers store and relay only the ciphertext (checked in their sqlite files and through
 * notify:fetch / notify:list), and bob's monitor, live or replayed, yields the text. The CLI side (monitor
 * output, --plain) is in cli.test.ts.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { AtClient } from "../../client/index.ts";
import { startStack, type Stack } from "../harness.ts";
import { collect, eventually, notificationStoreBytes, onboarded, storedNotifications } from "./fixture.ts";

const TEXT = "meet me by the old oak at five";
/** The notification metadata fields of ATPROTOCOL.md §6.3, live and stored variants. */
const LIVE_FIELDS = ["encKeyName", "encAlgo", "ivNonce", "skeEncKeyName", "skeEncAlgo", "sharedKeyEnc"];
const STORED_FIELDS = ["encKeyName", "encAlgo", "ivNonce", "skeEncKeyName", "skeEncAlgo", "availableAt", "expiresAt"];

let stack: Stack;
let alice: AtClient;
let bob: AtClient;
let ids: string[] = [];
let since = 0;

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@alice", "@bob"] });
  [alice, bob] = await Promise.all([onboarded(stack, "@alice"), onboarded(stack, "@bob")]);
});
afterAll(async () => {
  alice?.close();
  bob?.close();
  await stack?.stop();
});

test("bob's live monitor yields the text of two encrypted messages; the metadata keeps the §6.3 order", async () => {
  const m = bob.monitor({ regex: "alice" });
  await m.ready;
  const got = collect(m);
  since = Date.now() - 1;
  ids = [await alice.notify("@bob", TEXT, undefined, { text: true }), await alice.notify("@bob", TEXT, undefined, { text: true })];
  await eventually(() => ids.every((id) => got.items.some((n) => n.id === id)), 20_000, "text delivery");
  m.close();
  await got.done;
  for (const id of ids) {
    const n = got.items.find((x) => x.id === id)!;
    expect(n).toMatchObject({ from: "@alice", to: "@bob", messageType: "text", isEncrypted: true, value: TEXT, key: `@bob:${TEXT}` });
    expect(n.decryptError).toBeUndefined();
    expect(Object.keys(n.metadata ?? {})).toEqual(LIVE_FIELDS);
    expect(n.metadata?.ivNonce).toBeString();
    expect(n.metadata?.sharedKeyEnc).toBeString();
  }
});

test("both servers store only ciphertext, a different one (and IV) for each of the two identical texts", async () => {
  await eventually(async () => (await Promise.all(ids.map((id) => alice.notifyStatus(id)))).every((s) => s === "delivered"), 20_000, "delivered");
  const keys = new Set<string>();
  const ivs = new Set<unknown>();
  for (const [atSign, type] of [["@alice", "sent"], ["@bob", "received"]] as const) {
    expect(notificationStoreBytes(stack, atSign)).not.toContain(TEXT);
    for (const id of ids) {
      const [row] = storedNotifications(stack, atSign, id);
      expect(row).toMatchObject({ type, value: null, meta: { isEncrypted: true } });
      expect(row!.key).toMatch(/^@bob:[A-Za-z0-9+/=]+$/);
      expect(row!.meta.ivNonce).toBeString();
      keys.add(row!.key);
      ivs.add(row!.meta.ivNonce);
    }
  }
  // One ciphertext and one IV per message, the same on both servers.
  expect(keys.size).toBe(2);
  expect(ivs.size).toBe(2);
});

test("notify:fetch on both servers and notify:list on bob's show the ciphertext, never the text", async () => {
  for (const [client, type] of [[alice, "sent"], [bob, "received"]] as const) {
    for (const id of ids) {
      const text = await client.command(`notify:fetch:${id}`);
      expect(text).not.toContain(TEXT);
      const fetched = JSON.parse(text);
      expect(fetched).toMatchObject({ id, type: `NotificationType.${type}`, messageType: "MessageType.text" });
      expect(fetched.atMetadata).toContain("ivNonce: ");
    }
  }
  const listText = await bob.command("notify:list");
  expect(listText).not.toContain(TEXT);
  const listed = (JSON.parse(listText) as { id: string; key: string; isEncrypted: boolean; metadata: Record<string, unknown> }[]).filter((n) => ids.includes(n.id));
  expect(listed).toHaveLength(2);
  for (const n of listed) {
    expect(n.isEncrypted).toBe(true);
    expect(Object.keys(n.metadata)).toEqual(STORED_FIELDS);
    expect(n.metadata.ivNonce).toBeString();
  }
  expect(listed[0]!.key).not.toBe(listed[1]!.key);
});

test("a replayed text (no sharedKeyEnc in the stored variant) is decrypted with shared_key@alice", async () => {
  const m = bob.monitor({ regex: "alice", since });
  const got = collect(m);
  await eventually(() => ids.every((id) => got.items.some((n) => n.id === id)), 20_000, "replay");
  m.close();
  await got.done;
  for (const id of ids) expect(got.items.find((n) => n.id === id)).toMatchObject({ value: TEXT, key: `@bob:${TEXT}`, isEncrypted: true });
});

test("plain text only when asked for: encrypt: false stores it readable, marked isEncrypted:false", async () => {
  const id = await alice.notify("@bob", "this one is public", undefined, { text: true, encrypt: false });
  await eventually(async () => (await alice.notifyStatus(id)) === "delivered", 20_000, "delivered");
  expect(storedNotifications(stack, "@bob", id)[0]).toMatchObject({ key: "@bob:this one is public", meta: { isEncrypted: false } });
  // …which also shows that the byte scan above would have found a text stored in clear.
  expect(notificationStoreBytes(stack, "@bob")).toContain("this one is public");
});
