/**
 * How the CLI and the entries behave at their edges, as a user meets them: --json errors, one error line that
 * says each code and hint once, a bad --ca file blamed on the file, missing keys exit 3 whichever way they are
 * missing, --version everywhere, a newline after `get` on a terminal, the local stack's config standing in for
 * INLAY_DIRECTORY, size limits naming the flag that lifts them, bind errors naming address and flag, and bundled
 * entries naming themselves.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../client/cli/run.ts";
import { writeLocalConfig } from "../../client/cli/local_config.ts";
import { buildEntries } from "../../ops/build.ts";
import { startStack, type Stack } from "../harness.ts";
import { cliEnv, runClientCli } from "../client_cli.ts";

const ROOT = join(import.meta.dir, "..", "..");
const dir = (s: Stack) => `${s.directory.host}:${s.directory.port}`;

let stack: Stack;
let userHome: string;
const cli = (args: string[], over: Record<string, string> = {}, stdin?: Uint8Array | string) => runClientCli(args, cliEnv(stack, { HOME: userHome, ...over }), stdin);

/** Runs a root entry (`bun directory.ts ...`) to its end. */
async function entry(file: string, args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, file, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: userHome, INLAY_HOME: stack.home, ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { out, err, code };
}

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@erin"] });
  userHome = join(stack.home, "user");
  mkdirSync(userHome);
  const r = await cli(["onboard", "@erin", "--cram", "-", "--ca", stack.caFile, "--directory", dir(stack)], {}, stack.servers.get("@erin")!.cramSecret);
  if (r.code !== 0) throw new Error(`onboard failed: ${r.err}`);
  expect((await cli(["put", "city", "Porto", "--as", "@erin", "--directory", dir(stack)])).code).toBe(0);
});
afterAll(async () => {
  await stack?.stop();
});

describe("errors", () => {
  test("--json: an error is one JSON object on stdout with the same exit status, stderr empty", async () => {
    const r = await cli(["get", "nothing.here", "--as", "@erin", "--directory", dir(stack), "--json"]);
    expect(r.code).toBe(1);
    expect(r.err).toBe("");
    expect(r.out.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(r.out)).toMatchObject({ error: { exit: 1, code: "AT0015" } });
    const usage = await cli(["get", "--nope", "--json"]);
    expect({ code: usage.code, err: usage.err }).toEqual({ code: 2, err: "" });
    expect(JSON.parse(usage.out).error.message).toContain("Unknown option --nope");
  });

  test("the atProtocol code and the help hint appear once", async () => {
    const r = await cli(["onboard", "@erin", "--cram", "wrong", "--keys", join(stack.home, "x.atKeys"), "--directory", dir(stack)]);
    expect(r.code).toBe(3);
    expect(r.err.match(/AT0401/g)).toHaveLength(1);
    const usage = await cli(["get", "--nope"]);
    expect(usage.err).toBe("Unknown option --nope (see bun client.ts get --help)\n");
    const svc = await entry("directory.ts", ["--nope"]);
    expect({ code: svc.code, err: svc.err }).toEqual({ code: 2, err: "Unknown option --nope (see bun directory.ts --help)\n" });
  });

  test("a bad --ca file is blamed on the file (exit 2), not on the directory", async () => {
    const junk = join(stack.home, "junk.pem");
    writeFileSync(junk, "not a certificate\n");
    for (const file of [junk, join(stack.home, "missing.pem")]) {
      const r = await cli(["get", "city", "--as", "@erin", "--directory", dir(stack), "--ca", file]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`--ca file ${file}`);
      expect(r.err).not.toContain("irectory");
    }
  });

  test("missing keys exit 3 whether --as names them or the key folder is empty", async () => {
    const byName = await cli(["get", "city", "--as", "@nobody", "--directory", dir(stack)]);
    const empty = await cli(["get", "city", "--directory", dir(stack)], { HOME: join(stack.home, "nobody-home") });
    expect([byName.code, empty.code]).toEqual([3, 3]);
    expect(empty.err).toContain("onboard");
  });

  test("a stdin body over the notification bound names --relay", async () => {
    const r = await cli(["fetch", "@api", "/upload", "-d", "-", "--as", "@erin"], {}, new Uint8Array(9 * 1024 * 1024));
    expect(r.code).toBe(2);
    expect(r.err).toContain("--relay");
  });
});

describe("output and defaults", () => {
  test("--version on the CLI and every entry", async () => {
    expect((await cli(["--version"])).out).toMatch(/^inlay client \d+\.\d+\.\d+\n$/);
    expect((await cli(["get", "--version"])).out).toMatch(/^inlay client /);
    for (const [file, name] of [["directory.ts", "directory"], ["server.ts", "server"], ["relay.ts", "relay"], ["dev.ts", "dev"]] as const) {
      const r = await entry(file, ["--version"]);
      expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: expect.stringMatching(new RegExp(`^inlay ${name} \\d+\\.\\d+\\.\\d+\\n$`)) });
    }
  });

  test("get ends with a newline on a terminal, and not in a pipe", async () => {
    const out: (string | Uint8Array)[] = [];
    const io = { stdin: async function* () {}, out: (b: string | Uint8Array) => void out.push(b), err: () => {}, stdoutIsTty: true };
    // In this process the key folder is not the test's HOME: name the file.
    const keys = join(userHome, ".atsign", "keys", "@erin_key.atKeys");
    expect(await runCli(["get", "city", "--keys", keys, "--directory", dir(stack), "--ca", stack.caFile], { INLAY_HOME: stack.home }, io)).toBe(0);
    expect(out.join("")).toBe("Porto\n");
    expect((await cli(["get", "city", "--as", "@erin", "--directory", dir(stack)])).out).toBe("Porto");
  });

  test("$INLAY_HOME/config.json stands in for INLAY_DIRECTORY; the variable and the flag still win", async () => {
    const home = mkdtempSync(join(tmpdir(), "inlay-config-"));
    try {
      // The dev CA must be the stack's: the config home only changes where the directory is looked up.
      const over = { INLAY_HOME: home };
      writeLocalConfig(home, { directory: dir(stack) });
      const ca = ["--ca", stack.caFile];
      expect((await cli(["get", "city", "--as", "@erin", ...ca], over)).out).toBe("Porto");
      const envWins = await cli(["get", "city", "--as", "@erin", ...ca], { ...over, INLAY_DIRECTORY: "127.0.0.1:1" });
      expect(envWins.code).toBe(4);
      const flagWins = await cli(["get", "city", "--as", "@erin", ...ca, "--directory", "127.0.0.1:1"], over);
      expect(flagWins.code).toBe(4);
      writeFileSync(join(home, "config.json"), "{ not json");
      const broken = await cli(["get", "city", "--as", "@erin", ...ca], over);
      expect(broken.code).toBe(2);
      expect(broken.err).toContain(join(home, "config.json"));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe("entries", () => {
  test("a taken port names the address and the flag (relay: was the dev directory's 6464 by default)", async () => {
    using held = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const relay = await entry("relay.ts", ["@relay", "--host", "127.0.0.1", "--port", String(held.port), "--admin-port", "0", "--directory", dir(stack)]);
    expect({ code: relay.code, err: relay.err }).toEqual({ code: 1, err: `relay: Cannot listen on 127.0.0.1:${held.port} (relay): the port is in use; choose another port with --port\n` });
    const metrics = await entry("relay.ts", ["@relay", "--host", "127.0.0.1", "--port", "0", "--admin-port", String(held.port), "--directory", dir(stack)]);
    expect(metrics.err).toContain(`127.0.0.1:${held.port} (admin)`);
    expect(metrics.err).toContain("--admin-port");
    const help = await entry("relay.ts", ["--help"]);
    expect(help.out).toContain('default 6466');
  });

  test("bun run start's port hint names a flag it takes", async () => {
    using held = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const r = await entry("dev.ts", ["--directory-port", String(held.port)]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`bun run start --directory-port`);
  });

  test("bundled entries name themselves (bun <dir>/directory.js, not bun directory.ts)", async () => {
    const out = mkdtempSync(join(tmpdir(), "inlay-dist-"));
    try {
      await buildEntries(out, ["directory.ts", "client.ts"]);
      const proc = Bun.spawn([process.execPath, "directory.js", "--nope"], { cwd: out, stdout: "pipe", stderr: "pipe" });
      expect(await new Response(proc.stderr).text()).toBe("Unknown option --nope (see bun directory.js --help)\n");
      const client = Bun.spawn([process.execPath, "client.js", "get", "--help"], { cwd: out, stdout: "pipe", stderr: "pipe" });
      const help = await new Response(client.stdout).text();
      expect(help).toContain("Usage: bun client.js get KEY");
      expect(help).not.toContain("client.ts");
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
