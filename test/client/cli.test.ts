/**
 * The CLI as a user runs it: `bun client.ts <command>` child processes against a real atServer, checking
 * stdout, the one-line stderr and the exit status (0 ok, 1 not found, 2 usage, 3 auth/crypto, 4 network).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startStack, type Stack } from "../harness.ts";
import { cliEnv, runClientCli } from "../client_cli.ts";

const dir = (s: Stack) => `${s.directory.host}:${s.directory.port}`;

let stack: Stack;
let userHome: string;
let common: string[];
let asCarol: string[];

const cli = (args: string[], stdin?: Uint8Array | string, home = userHome) => runClientCli(args, cliEnv(stack, { HOME: home }), stdin);

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@carol", "@dave"] });
  userHome = join(stack.home, "user");
  mkdirSync(userHome);
  common = ["--ca", stack.caFile, "--directory", dir(stack)];
  asCarol = ["--as", "@carol", ...common];
  for (const atSign of ["@carol", "@dave"]) {
    const r = await cli(["onboard", atSign, "--cram", "-", ...common], stack.servers.get(atSign)!.cramSecret);
    if (r.code !== 0) throw new Error(`onboard failed: ${r.err}`);
  }
});
afterAll(async () => {
  await stack?.stop();
});

describe("bun client.ts", () => {
  test("keys shows the @sign and the default .atKeys path", async () => {
    const r = await cli(["keys", "--json", "--as", "@carol"]);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out);
    expect(info.atSign).toBe("@carol");
    expect(info.keysFile).toBe(join(userHome, ".atsign", "keys", "@carol_key.atKeys"));
  });

  test("put and get a self value; get --json carries metadata", async () => {
    expect((await cli(["put", "city", "Lisbon", ...asCarol])).code).toBe(0);
    const r = await cli(["get", "city", ...asCarol]);
    expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: "Lisbon" });
    const j = JSON.parse((await cli(["get", "city", "--json", ...asCarol])).out);
    expect(j).toMatchObject({ key: "city@carol", value: "Lisbon", binary: false, meta: { isEncrypted: true } });
  });

  test("binary values from stdin come back byte for byte", async () => {
    const bytes = new Uint8Array(4096).map((_, i) => (i * 7) & 0xff);
    expect((await cli(["put", "public:blob", "-", ...asCarol], bytes)).code).toBe(0);
    const r = await cli(["get", "public:blob", ...asCarol]);
    expect(r.code).toBe(0);
    expect(r.bytes).toEqual(bytes);
  });

  test("put with --ttl, scan, delete", async () => {
    expect((await cli(["put", "tmp.x", "1", "--ttl", "60000", ...asCarol])).code).toBe(0);
    expect((await cli(["scan", "tmp", ...asCarol])).out).toBe("tmp.x@carol\n");
    expect((await cli(["delete", "tmp.x", ...asCarol])).code).toBe(0);
    const again = await cli(["delete", "tmp.x", ...asCarol]);
    expect(again.code).toBe(1);
  });

  test("exit 1 for a missing key, with a one-line error", async () => {
    const r = await cli(["get", "nothing.here", ...asCarol]);
    expect(r.code).toBe(1);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toContain("AT0015");
  });

  test("exit 2 for usage errors", async () => {
    expect((await cli(["put", "only-key", ...asCarol])).code).toBe(2);
    expect((await cli(["get", ...asCarol])).code).toBe(2);
    expect((await cli(["frobnicate"])).code).toBe(2);
    expect((await cli(["get", "x", "--ttl"])).code).toBe(2);
  });

  test("exit 3 for keys that do not authenticate", async () => {
    const bad = join(stack.home, "bad.atKeys");
    writeFileSync(bad, "{}");
    const r = await cli(["get", "city", "--keys", bad, ...asCarol]);
    expect(r.code).toBe(3);
    expect(r.err).toContain(bad);
  });

  test("exit 4 when the directory or the server cannot be reached", async () => {
    const r = await cli(["get", "city", "--as", "@carol", "--ca", stack.caFile, "--directory", "127.0.0.1:1"]);
    expect(r.code).toBe(4);
    expect(r.err).toContain("--directory");
    const s = await cli(["get", "city", "--server", "127.0.0.1:1", ...asCarol]);
    expect(s.code).toBe(4);
    expect(s.err).toContain("127.0.0.1:1");
  });

  test("INLAY_DIRECTORY stands in for --directory", async () => {
    const r = await runClientCli(["get", "city", "--as", "@carol", "--ca", stack.caFile], cliEnv(stack, { HOME: userHome, INLAY_DIRECTORY: dir(stack) }));
    expect(r.out).toBe("Lisbon");
    expect(r.code).toBe(0);
  });

  test("--keys-dir points at another folder of .atKeys files", async () => {
    const r = await cli(["get", "city", "--as", "@carol", "--keys-dir", join(userHome, ".atsign", "keys"), ...common], undefined, join(stack.home, "elsewhere"));
    expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: "Lisbon" });
  });

  test("carol shares with dave; dave reads it through his own atServer", async () => {
    expect((await cli(["put", "@dave:plan.app", "meet at noon", ...asCarol])).code).toBe(0);
    const r = await cli(["get", "plan.app@carol", "--as", "@dave", ...common]);
    expect({ code: r.code, out: r.out, err: r.err }).toEqual({ code: 0, out: "meet at noon", err: "" });
  });

  test("with several .atKeys files and no --as the CLI asks for one", async () => {
    const r = await cli(["scan", ...common]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--as");
  });

  test("--help exits 0", async () => {
    const r = await cli(["put", "--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("--ttl");
  });
});
