/**
 * Background refresh of `cached:` copies: a copy whose refreshAt passed is fetched again over pol; when the
 * owner deleted the original without cascade delete, the refresh removes the stale copy.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { RunningServer } from "../../server/index.ts";
import { startStack, type Stack } from "../harness.ts";
import type { WireClient } from "../wire_client.ts";
import { eventually, ownerClient, startTunedServer } from "./helpers.ts";

const REFRESH_MS = 200;

let stack: Stack;
let alice: { server: RunningServer; client: WireClient };
let bob: WireClient;

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@bob"] });
  alice = await startTunedServer(stack, "@alice", { cacheRefreshMs: REFRESH_MS });
  bob = await ownerClient(stack, "@bob");
});
afterAll(async () => {
  bob.close();
  alice.client.close();
  await alice.server.stop();
  await stack.stop();
});

test("a stale copy of a deleted original (no cascade delete) is removed by the refresh job", async () => {
  expect(await bob.send("update:ttr:1:ccd:false:@alice:gone@bob v1")).toMatch(/^data:\d+$/);
  await eventually(async () => (await alice.client.send("llookup:cached:@alice:gone@bob")) === "data:v1");
  expect(await bob.send("delete:@alice:gone@bob")).toMatch(/^data:\d+$/);
  // The delete notification does not cascade (ccd false); the refresh after ttr (1 s) finds the original gone.
  await eventually(async () => (await alice.client.send("llookup:cached:@alice:gone@bob")).startsWith("error:AT0015"), 10_000);
});
