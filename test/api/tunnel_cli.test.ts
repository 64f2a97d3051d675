/**
 * The tunnel path from the CLI, as child processes against a real stack, relay and an API served in this
 * process: `fetch -d - --relay` streams stdin up, `fetch --tunnel` streams the response to stdout, and
 * `gateway --relay` takes a body larger than a notification.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { serveApi, type ServedApi } from "../../client/api/serve/index.ts";
import type { RelayHandle } from "../../relay/index.ts";
import { startStack, type Stack } from "../harness.ts";
import { keysFileOf, netOf, onboarded, startGateway } from "./fixture.ts";
import { bigBodyApp, sha256, startRelayFor } from "./tunnel_fixture.ts";
import { cliEnv, runClientCli } from "../client_cli.ts";

const BIG_BYTES = 8 * 1024 * 1024;
const download = crypto.getRandomValues(new Uint8Array(BIG_BYTES));
let stack: Stack;
let relay: RelayHandle;
let served: ServedApi;
let args: string[];

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@api", "@bob"] });
  for (const c of await Promise.all([onboarded(stack, "@api"), onboarded(stack, "@bob")])) c.close();
  relay = await startRelayFor(stack);
  served = await serveApi(bigBodyApp(download), { as: "@api", keysFile: keysFileOf(stack, "@api"), ...netOf(stack), allow: ["@bob"] });
  args = ["--keys", keysFileOf(stack, "@bob"), "--ca", stack.caFile, "--directory", `${stack.directory.host}:${stack.directory.port}`, "--relay", `127.0.0.1:${relay.port}`];
}, 60_000);
afterAll(async () => {
  await served?.close();
  await relay?.stop();
  await stack?.stop();
});

const env = () => cliEnv(stack);
const cli = (argv: string[], stdin?: Uint8Array) => runClientCli(argv, env(), stdin);

test("fetch -d - --relay streams 8 MiB of stdin; --tunnel brings an 8 MiB response to stdout", async () => {
  const body = crypto.getRandomValues(new Uint8Array(BIG_BYTES));
  const up = await cli(["fetch", "@api", "/sha", "-d", "-", ...args], body);
  expect(up.err).toBe("");
  expect(up.code).toBe(0);
  expect(JSON.parse(up.out)).toEqual({ sha: sha256(body), bytes: BIG_BYTES, caller: "@bob" });
  const down = await cli(["fetch", "@api", "/download", "--tunnel", ...args]);
  expect(down.code).toBe(0);
  expect(down.bytes.byteLength).toBe(BIG_BYTES);
  expect(sha256(down.bytes)).toBe(sha256(download));
  expect((await cli(["fetch", "@api", "/download", "--tunnel", ...args.slice(0, -2)])).code).toBe(2);
}, 60_000);

test("gateway --relay takes a body larger than a notification and brings back an answer larger than one", async () => {
  const { proc, base } = await startGateway(["--to", "@api", ...args], env());
  try {
    const body = crypto.getRandomValues(new Uint8Array(BIG_BYTES));
    const res = await fetch(`${base}/sha`, { method: "POST", body });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sha: sha256(body), bytes: BIG_BYTES, caller: "@bob" });
    const down = await fetch(`${base}/download`);
    expect(sha256(new Uint8Array(await down.arrayBuffer()))).toBe(sha256(download));
    const small = await fetch(`${base}/sha`, { method: "POST", body: "abc" });
    expect(await small.json()).toMatchObject({ bytes: 3, caller: "@bob" });
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  } finally {
    proc.kill();
  }
}, 60_000);
