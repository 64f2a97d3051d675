/**
 * `bun client.ts gatekeeper` as a user runs it against real servers: fail-closed into quarantine, see who is
 * held (--json and text), admit one sender (its notification released), reject another; a wrong line is exit 2.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startStack, type Stack } from "../harness.ts";
import { cliEnv, runClientCli } from "../client_cli.ts";
import { eventually, ownerClient } from "../notify/helpers.ts";
import type { WireClient } from "../wire_client.ts";

let stack: Stack;
let home: string;
let common: string[];
let fred: WireClient;
let gina: WireClient;

const cli = (args: string[]) => runClientCli(["gatekeeper", ...args, ...common], cliEnv(stack, { HOME: home }));
const statusAt = async (c: WireClient, id: string) => (await c.send(`notify:status:${id}`)).replace(/^data:/, "");

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@erin", "@fred", "@gina"] });
  home = join(stack.home, "user");
  mkdirSync(home);
  common = ["--ca", stack.caFile, "--directory", `${stack.directory.host}:${stack.directory.port}`, "--as", "@erin"];
  const r = await runClientCli(["onboard", "@erin", "--cram", "-", ...common], cliEnv(stack, { HOME: home }), stack.servers.get("@erin")!.cramSecret);
  if (r.code !== 0) throw new Error(`onboard failed: ${r.err}`);
  [fred, gina] = await Promise.all([ownerClient(stack, "@fred"), ownerClient(stack, "@gina")]);
});
afterAll(async () => {
  fred?.close();
  gina?.close();
  await stack?.stop();
});

test("set fail-closed, list the quarantine, admit one sender and reject another", async () => {
  expect((await cli(["set", "in", "*", "unknown", "quarantine"])).code).toBe(0);
  const shown = await cli(["show", "--json"]);
  expect(JSON.parse(shown.out).rules.in).toEqual({ "*": { unknown: "quarantine", allow: [], deny: [] } });

  await fred.send("notify:id:c1:@erin:hello.chat@fred:v");
  await gina.send("notify:id:c2:@erin:hello.chat@gina:v");
  await eventually(async () => (await statusAt(fred, "c1")) === "delivered" && (await statusAt(gina, "c2")) === "delivered");
  const list = await cli(["quarantine", "list", "--json"]);
  expect(list.code).toBe(0);
  expect(JSON.parse(list.out).senders.map((s: any) => s.atSign).sort()).toEqual(["@fred", "@gina"]);
  expect((await cli(["quarantine"])).out).toContain("@fred\t1 held");

  const admit = await cli(["admit", "@fred", "--json"]);
  expect(JSON.parse(admit.out)).toEqual({ released: 1 });
  const reject = await cli(["reject", "@gina"]);
  expect({ code: reject.code, out: reject.out }).toEqual({ code: 0, out: "Rejected @gina; dropped 1 notification(s)\n" });
  expect(JSON.parse((await cli(["quarantine", "--json"])).out).senders).toEqual([]);
});

test("a wrong gatekeeper line is a usage error (exit 2) before anything dials", async () => {
  const r = await cli(["set", "out", "*", "unknown", "quarantine"]);
  expect(r.code).toBe(2);
  expect(r.err).toContain("not a gatekeeper command");
  expect((await cli(["admit"])).code).toBe(2);
});
