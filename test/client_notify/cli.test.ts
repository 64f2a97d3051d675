/**
 * The notification commands as a user runs them: `bun client.ts monitor` as a long-running child process
 * printing one JSON line per notification (decrypted), `notify` and `notify-status` as one-shot children,
 * with their exit statuses.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startStack, type Stack } from "../harness.ts";
import { eventually, keysFileOf, onboarded, startCutter, storedNotifications } from "./fixture.ts";
import { cliEnv, runClientCli, spawnClientCli } from "../client_cli.ts";

let stack: Stack;
let common: string[];

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@alice", "@bob"] });
  for (const c of await Promise.all([onboarded(stack, "@alice"), onboarded(stack, "@bob")])) c.close();
  common = ["--ca", stack.caFile, "--directory", `${stack.directory.host}:${stack.directory.port}`];
});
afterAll(async () => {
  await stack?.stop();
});

const env = () => cliEnv(stack);
const as = (atSign: string) => ["--keys", keysFileOf(stack, atSign), ...common];

const cli = (args: string[], stdin?: string) => runClientCli(args, env(), stdin);

/** Reads a child's stream into a growing string. */
function tail(stream: ReadableStream<Uint8Array>): { text: () => string } {
  let text = "";
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  })();
  return { text: () => text };
}

test("monitor prints the JSON line of each notification, decrypted; notify prints the id; notify-status follows it", async () => {
  // bob's server cannot match the words of an encrypted text, only its shape: `@bob:` and a ciphertext, which
  // has no `@` or `.` (the server lowercases a monitor regex and it cannot hold a `:`, hence this form).
  const regex = "cli|^@bob.[^@.]+$";
  const mon = spawnClientCli(["monitor", regex, "--count", "3", ...as("@bob")], env());
  try {
    const out = tail(mon.stdout);
    const err = tail(mon.stderr);
    await eventually(() => err.text().includes("monitoring @bob"), 20_000, "monitor start");

    const sent = await cli(["notify", "@bob:cli.wavi", "-", ...as("@alice")], "value from stdin");
    expect(sent.code).toBe(0);
    const id = sent.out.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const text = await cli(["notify", "@bob", "cli says hi", "--text", "--json", ...as("@alice")]);
    expect(text.code).toBe(0);
    const textId = JSON.parse(text.out).id;
    const plain = await cli(["notify", "@bob", "cli says hi in clear", "--text", "--plain", ...as("@alice")]);
    expect(plain.code).toBe(0);

    expect(await mon.exited).toBe(0);
    const lines = out.text().trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ id, from: "@alice", to: "@bob", key: "@bob:cli.wavi@alice", value: "value from stdin", messageType: "key", isEncrypted: true });
    expect(lines[1]).toMatchObject({ id: textId, key: "@bob:cli says hi", value: "cli says hi", messageType: "text", isEncrypted: true });
    expect(lines[2]).toMatchObject({ id: plain.out.trim(), key: "@bob:cli says hi in clear", value: "cli says hi in clear", messageType: "text", isEncrypted: false });
    // What bob's server holds of the default (encrypted) one is ciphertext; the --plain one is readable there.
    expect(storedNotifications(stack, "@bob", textId)[0]!.key).not.toContain("cli says hi");
    expect(storedNotifications(stack, "@bob", plain.out.trim())[0]!.key).toBe("@bob:cli says hi in clear");

    await eventually(async () => (await cli(["notify-status", id, ...as("@alice")])).out.trim() === "delivered", 20_000, "delivered");
    const json = await cli(["notify-status", id, "--json", ...as("@alice")]);
    expect(JSON.parse(json.out)).toEqual({ id, status: "delivered" });
  } finally {
    mon.kill();
  }
});

test("exit statuses: unknown id 1, usage 2, a monitor stopped by SIGTERM 0", async () => {
  const unknown = await cli(["notify-status", "nope-1", ...as("@alice")]);
  expect(unknown.code).toBe(1);
  expect(unknown.err.trim().split("\n")).toHaveLength(1);
  expect((await cli(["notify", "@bob", "v", ...as("@alice")])).code).toBe(2);
  expect((await cli(["notify", "@bob:x.y", "v", "--ttln", "-5", ...as("@alice")])).code).toBe(2);
  expect((await cli(["notify", "@bob:x.y", "v", "--plain", ...as("@alice")])).code).toBe(2);
  const mon = spawnClientCli(["monitor", ...as("@bob")], env());
  const err = tail(mon.stderr);
  await eventually(() => err.text().includes("monitoring"), 20_000, "monitor start");
  mon.kill("SIGTERM");
  expect(await mon.exited).toBe(0);
});

test("a CLI monitor whose connection drops reconnects, resumes, and prints each notification once", async () => {
  const cutter = startCutter(stack.servers.get("@bob")!.port);
  const mon = spawnClientCli(["monitor", "drop", "--count", "4", "--server", `127.0.0.1:${cutter.port}`, ...as("@bob")], env());
  try {
    const out = tail(mon.stdout);
    const err = tail(mon.stderr);
    await eventually(() => err.text().includes("monitoring @bob"), 20_000, "monitor start");
    const send = async (i: number) => (await cli(["notify", `@bob:drop${i}.wavi`, `d${i}`, ...as("@alice")])).out.trim();
    const ids = [await send(0)];
    await eventually(() => out.text().includes(ids[0]!), 20_000, "first line printed while running");
    cutter.refuse = true;
    cutter.cut();
    await eventually(() => err.text().includes("connection lost"), 20_000, "drop noticed");
    ids.push(await send(1), await send(2));
    await eventually(async () => (await cli(["notify-status", ids[2]!, ...as("@alice")])).out.trim() === "delivered", 20_000, "delivered while down");
    cutter.refuse = false;
    ids.push(await send(3));
    expect(await mon.exited).toBe(0);
    const lines = out.text().trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(ids);
    expect(lines.map((l) => l.value)).toEqual(["d0", "d1", "d2", "d3"]);
    expect(err.text()).toMatch(/monitor: reconnected \(replaying from \d+\)/);
  } finally {
    mon.kill();
    cutter.stop();
  }
}, 60_000);
