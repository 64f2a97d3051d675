/**
 * The client SDK end to end, on whichever runtime runs this file: `bun test test/deno` and, through the
 * bun:test shim, `bun run deno:test`. The services are Bun-only, so they run as child processes as a user
 * starts them (test/deno/spawned_stack.ts). The SDK onboards with CRAM and moves self, public and shared
 * values and one notification through real TLS connections.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { AtClient } from "../../client/at_client.ts";
import { parseRecord } from "../../client/data/record.ts";
import type { AtNotification } from "../../client/monitor/notification.ts";
import { startSpawnedStack, type SpawnedStack } from "./spawned_stack.ts";

/** Deadline for a notification to reach the monitor. */
const DELIVERY_TIMEOUT_MS = 20_000;

let stack: SpawnedStack;
let alice: AtClient;
let bob: AtClient;

beforeAll(async () => {
  stack = await startSpawnedStack(["@alice", "@bob"]);
  const onboard = (atSign: string) =>
    AtClient.onboard(atSign, stack.cramSecrets.get(atSign)!, { ...stack.net, keysFile: join(stack.home, "keys", `${atSign}.atKeys`) });
  const [a, b] = await Promise.all([onboard("@alice"), onboard("@bob")]);
  alice = a.client;
  bob = b.client;
});

afterAll(async () => {
  alice?.close();
  bob?.close();
  await stack?.stop();
});

describe("client SDK against bun-run services", () => {
  test("self values round trip and are stored encrypted", async () => {
    await alice.put("phone.wavi", "+1-555-0100");
    expect((await alice.get("phone.wavi")).value).toBe("+1-555-0100");
    const raw = parseRecord(await alice.command("llookup:all:phone.wavi@alice"), "phone.wavi@alice")!;
    expect(raw.meta.isEncrypted).toBe(true);
    expect(raw.data).not.toContain("555");
  });

  test("bob reads alice's signed public value", async () => {
    await alice.put("public:card.app", "alice in wonderland");
    expect((await bob.get("public:card.app@alice")).value).toBe("alice in wonderland");
  });

  test("a value alice shares with bob: she reads it back, bob decrypts it through his server", async () => {
    await alice.put("@bob:note.app", "for bob only");
    expect((await alice.get("@bob:note.app")).value).toBe("for bob only");
    expect((await bob.get("note.app@alice")).value).toBe("for bob only");
  });

  test("bob's monitor yields alice's notification decrypted", async () => {
    const m = bob.monitor({ regex: "ping\\.wavi" });
    await m.ready;
    const got: AtNotification[] = [];
    const done = (async () => {
      for await (const n of m) got.push(n);
    })();
    const id = await alice.notify("@bob", "ping.wavi", "pong");
    const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
    while (!got.some((n) => n.id === id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    m.close();
    await done;
    expect(got.find((n) => n.id === id)).toMatchObject({ from: "@alice", to: "@bob", key: "@bob:ping.wavi@alice", value: "pong" });
  });
});
