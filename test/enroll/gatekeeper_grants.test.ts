/**
 * Who may configure the gatekeeper (`config:gatekeeper:*`): the owner, or an enrollment holding `*` or
 * `__manage` (`r` to show and list the quarantine, `rw` to change rules and admit or reject). An app enrolled
 * for its own namespace only is refused (AT0009) and its connection stays.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startServerFixture, type ServerFixture } from "../server_fixture.ts";
import type { WireClient } from "../wire_client.ts";
import { connectApkam, enrollApp, onboardManager } from "./wire_enroll.ts";

let f: ServerFixture;
let manager: WireClient;
let wavi: WireClient;
let reader: WireClient;
let managerOnly: WireClient;

beforeAll(async () => {
  f = await startServerFixture();
  manager = await connectApkam(f, await onboardManager(f));
  wavi = await connectApkam(f, await enrollApp(f, manager, "wavi", { wavi: "rw" }));
  reader = await connectApkam(f, await enrollApp(f, manager, "reader", { "*": "r" }));
  managerOnly = await connectApkam(f, await enrollApp(f, manager, "keeper", { __manage: "rw" }));
});
afterAll(async () => {
  for (const c of [manager, wavi, reader, managerOnly]) c?.close();
  await f?.stop();
});

test("an app without * or __manage may neither read nor change the gatekeeper", async () => {
  expect(await wavi.send("config:gatekeeper:show")).toStartWith("error:AT0009");
  expect(await wavi.send("config:gatekeeper:quarantine:list")).toStartWith("error:AT0009");
  expect(await wavi.send("config:gatekeeper:unknown:in:wavi:quarantine")).toStartWith("error:AT0009");
  expect(await wavi.send("noop:0")).toBe("data:ok");
});

test("* at r reads it but may not change it; __manage alone and the manager may change it", async () => {
  expect(await reader.send("config:gatekeeper:show")).toStartWith("data:{");
  expect(await reader.send("config:gatekeeper:quarantine:admit:@bob")).toStartWith("error:AT0009");
  expect(await managerOnly.send("config:gatekeeper:deny:in:wavi:@bob")).toBe("data:success");
  expect(await manager.send("config:gatekeeper:quarantine:admit:@bob")).toBe('data:{"released":0}');
  expect(JSON.parse((await reader.send("config:gatekeeper:show")).slice(5))).toEqual({
    rules: { in: { wavi: { allow: [], deny: ["@bob"] } }, out: {} },
    admitted: ["@bob"],
  });
});
