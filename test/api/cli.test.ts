/**
 * The API commands as a user runs them, as child processes against a real stack and an API served by
 * @sign in this process: `fetch` (curl-like output and exit statuses) and `gateway` (plain local HTTP).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { headerPairs } from "../../client/cli/fetch.ts";
import { serveApi, type ServedApi } from "../../client/api/serve/index.ts";
import { startStack, type Stack } from "../harness.ts";
import { keysFileOf, netOf, onboarded, testApp, startGateway } from "./fixture.ts";
import { cliEnv, runClientCli } from "../client_cli.ts";

let stack: Stack;
let served: ServedApi;
let common: string[];

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@api", "@bob", "@eve"] });
  for (const c of await Promise.all([onboarded(stack, "@api"), onboarded(stack, "@bob"), onboarded(stack, "@eve")])) c.close();
  // serveApi opening its own client from the .atKeys file, as a service would.
  served = await serveApi(testApp(), { as: "@api", keysFile: keysFileOf(stack, "@api"), ...netOf(stack), allow: ["@bob"] });
  common = ["--ca", stack.caFile, "--directory", `${stack.directory.host}:${stack.directory.port}`];
}, 60_000);
afterAll(async () => {
  await served?.close();
  await stack?.stop();
});

const env = () => cliEnv(stack);
const as = (atSign: string) => ["--keys", keysFileOf(stack, atSign), ...common];

const cli = (args: string[], stdin?: string) => runClientCli(args, env(), stdin);

test("-H pieces split at commas by the option parser are joined back", () => {
  expect(headerPairs(["Accept: a", "b", "X-Y: 1"])).toEqual([
    ["Accept", "a, b"],
    ["X-Y", "1"],
  ]);
  expect(() => headerPairs(["nonsense"])).toThrow("NAME: VALUE");
});

test("fetch prints the body; -v the status and headers on stderr; -d sends a POST body", async () => {
  const hello = await cli(["fetch", "@api", "/hello", "-v", ...as("@bob")]);
  expect(hello.code).toBe(0);
  expect(JSON.parse(hello.out)).toEqual({ hello: "@bob" });
  expect(hello.err).toContain("< 200");
  expect(hello.err).toContain("< content-type: application/json");
  const echo = await cli(["fetch", "@api", "/echo?q=1", "-d", "-", "-H", "Content-Type: text/plain", ...as("@bob")], "from stdin");
  expect(echo.code).toBe(0);
  expect(echo.out).toBe("from stdin");
});

test("fetch exit statuses: refused 0 (1 with --fail), unreachable 4, usage 2", async () => {
  const refused = await cli(["fetch", "@api", "/hello", ...as("@eve")]);
  expect(refused.code).toBe(0);
  expect(JSON.parse(refused.out)).toMatchObject({ error: "not_allowed" });
  expect((await cli(["fetch", "@api", "/hello", "--fail", ...as("@eve")])).code).toBe(1);
  const nobody = await cli(["fetch", "@nobody", "/hello", "--timeout", "2000", ...as("@bob")]);
  expect(nobody.code).toBe(4);
  expect(nobody.err).toContain("@nobody");
  expect((await cli(["fetch", "@api", "hello", ...as("@bob")])).code).toBe(2);
});

test("gateway exposes the @sign API as plain local HTTP", async () => {
  const { proc, base } = await startGateway(["--to", "@api", ...as("@bob")], env());
  try {
    const res = await fetch(`${base}/hello`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ hello: "@bob" });
    const echo = await fetch(`${base}/echo?x=2`, { method: "POST", body: "abc", headers: { "content-type": "text/plain" } });
    expect(echo.status).toBe(201);
    expect(echo.headers.get("x-query")).toBe("?x=2");
    expect(await echo.text()).toBe("abc");
    const missing = await fetch(`${base}/no-such-route`);
    expect(missing.status).toBe(404);
    await missing.body?.cancel();
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  } finally {
    proc.kill();
  }
});
