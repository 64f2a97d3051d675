/**
 * Passphrase-protected .atKeys files through the CLI as a user runs it: `keys protect` / `keys unprotect`, the
 * commands that read a key file (put, get) opening a protected one with --passphrase-file, the one-line errors
 * when no passphrase can be had or it is wrong, the reference forms read from the fixtures, and the prompt on
 * a real terminal (a pty from util-linux `script`) with echo off.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startStack, type Stack } from "../harness.ts";
import { CLIENT_ENTRY, cliEnv, runClientCli } from "../client_cli.ts";

const FIXTURES = join(import.meta.dir, "..", "fixtures", "atkeys");
const PASSPHRASE = "a good long passphrase";
/** Bound on each wait for the terminal session's output. */
const PTY_WAIT_MS = 30_000;

let stack: Stack;
let home: string;
let common: string[];
let passFile: string;
let keysFile: string;

const cli = (args: string[]) => runClientCli(args, cliEnv(stack, { HOME: home }));

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@erin"] });
  home = join(stack.home, "user");
  mkdirSync(home);
  common = ["--ca", stack.caFile, "--directory", `${stack.directory.host}:${stack.directory.port}`, "--as", "@erin"];
  passFile = join(home, "passphrase");
  writeFileSync(passFile, PASSPHRASE + "\n", { mode: 0o600 });
  const r = await runClientCli(["onboard", "@erin", "--cram", "-", ...common], cliEnv(stack, { HOME: home }), stack.servers.get("@erin")!.cramSecret);
  if (r.code !== 0) throw new Error(`onboard failed: ${r.err}`);
  keysFile = join(home, ".atsign", "keys", "@erin_key.atKeys");
});
afterAll(async () => {
  await stack?.stop();
});

describe("keys protect / unprotect and the commands that read a protected file", () => {
  let original: string;

  test("protect wraps the file (0600, salted v1 envelope); put and get open it with --passphrase-file", async () => {
    original = readFileSync(keysFile, "utf8");
    const p = await cli(["keys", "protect", "--passphrase-file", passFile, ...common]);
    expect({ code: p.code, err: p.err }).toEqual({ code: 0, err: "" });
    const envelope = JSON.parse(readFileSync(keysFile, "utf8"));
    expect(Object.keys(envelope)).toEqual(["v", "content", "iv", "hashingAlgoType", "salt", "kdfParams"]);
    expect(statSync(keysFile).mode & 0o777).toBe(0o600);
    expect((await cli(["put", "city", "Porto", "--passphrase-file", passFile, ...common])).code).toBe(0);
    const g = await cli(["get", "city", "--passphrase-file", passFile, ...common]);
    expect({ code: g.code, out: g.out }).toEqual({ code: 0, out: "Porto" });
  });

  test("no --passphrase-file and no terminal: exit 3 and one line saying what to do", async () => {
    const r = await cli(["get", "city", ...common]);
    expect(r.code).toBe(3);
    expect(r.err).toBe(`${keysFile}: is passphrase-protected; pass --passphrase-file FILE (a file holding the passphrase) or run on a terminal to be prompted\n`);
  });

  test("an empty passphrase file: exit 2, naming the file", async () => {
    const empty = join(home, "empty");
    writeFileSync(empty, "\n", { mode: 0o600 });
    const r = await cli(["get", "city", "--passphrase-file", empty, ...common]);
    expect({ code: r.code, err: r.err }).toEqual({ code: 2, err: `--passphrase-file ${empty}: empty (see bun client.ts get --help)\n` });
  });

  test("a wrong passphrase: exit 3, named as such", async () => {
    const wrong = join(home, "wrong");
    writeFileSync(wrong, "not the passphrase at all", { mode: 0o600 });
    const r = await cli(["get", "city", "--passphrase-file", wrong, ...common]);
    expect(r.code).toBe(3);
    expect(r.err).toContain(`${keysFile}: wrong passphrase`);
  });

  test("keys shows that the file is protected; protecting it again is refused", async () => {
    const s = await cli(["keys", "--json", "--passphrase-file", passFile, ...common]);
    expect(JSON.parse(s.out)).toMatchObject({ atSign: "@erin", form: "legacy", protected: true });
    const again = await cli(["keys", "protect", "--passphrase-file", passFile, ...common]);
    expect(again.code).toBe(2);
    expect(again.err).toContain("already passphrase-protected");
  });

  test("unprotect gives back the original file byte for byte; unprotecting a plain file is refused", async () => {
    expect((await cli(["keys", "unprotect", "--passphrase-file", passFile, ...common])).code).toBe(0);
    expect(readFileSync(keysFile, "utf8")).toBe(original);
    const again = await cli(["keys", "unprotect", ...common]);
    expect(again.code).toBe(2);
    expect(again.err).toBe(`${keysFile} is not passphrase-protected (see bun client.ts keys --help)\n`);
  });
});

describe("reference forms", () => {
  test("the CLI reads the typed document in its v1 envelope and the legacy envelope", async () => {
    const passphrase = join(home, "fixture-passphrase");
    writeFileSync(passphrase, "correct horse battery staple", { mode: 0o600 });
    for (const [name, form] of [["protected_v1.atKeys", "typed"], ["protected_legacy.atKeys", "legacy"]]) {
      const r = await cli(["keys", "--json", "--keys", join(FIXTURES, name!), "--passphrase-file", passphrase]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toMatchObject({ atSign: "@alice", form, protected: true });
    }
  });
});

/** Reads the terminal session's output into `seen` until it contains `pattern`, within PTY_WAIT_MS. */
async function waitFor(reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> }, seen: { text: string }, pattern: string): Promise<void> {
  const deadline = Date.now() + PTY_WAIT_MS;
  while (!seen.text.includes(pattern)) {
    const chunk = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => null)]);
    if (chunk === null || chunk.done) throw new Error(`no "${pattern}" on the terminal; it showed: ${JSON.stringify(seen.text)}`);
    seen.text += new TextDecoder().decode(chunk.value);
  }
}

describe("on a terminal", () => {
  test("keys protect prompts twice with echo off; the typed passphrase then opens the file", async () => {
    const file = join(home, "tty_key.atKeys");
    copyFileSync(join(FIXTURES, "@alice_key.atKeys"), file);
    const typed = "typed on the terminal";
    const command = `'${process.execPath}' '${CLIENT_ENTRY}' keys protect '${file}'`;
    const proc = Bun.spawn(["script", "-qec", command, "/dev/null"], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: { ...cliEnv(stack, { HOME: home }), TERM: "dumb" } });
    const reader = proc.stdout.getReader();
    const seen = { text: "" };
    await waitFor(reader, seen, "New passphrase for");
    proc.stdin.write(typed + "\r");
    await waitFor(reader, seen, "Repeat it:");
    proc.stdin.write(typed + "\r");
    await waitFor(reader, seen, "is now passphrase-protected");
    expect(await proc.exited).toBe(0);
    expect(seen.text).not.toContain(typed);
    const passphrase = join(home, "typed-passphrase");
    writeFileSync(passphrase, typed, { mode: 0o600 });
    const r = await cli(["keys", "--json", "--keys", file, "--passphrase-file", passphrase]);
    expect(JSON.parse(r.out)).toMatchObject({ atSign: "@alice", protected: true });
  });
});
