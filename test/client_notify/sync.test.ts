/**
 * Multi-device sync against a real atServer: two devices of @alice (two copies of her .atKeys, two caches)
 * converge through the commit log — offline changes pushed by one are pulled by the other, deletes
 * propagate, and a key changed on both sides resolves by the reference rule (the unpushed local change
 * wins and is pushed). The `sync` CLI command runs the same against a device's cache.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { AtClient } from "../../client/index.ts";
import { AtSync, syncCachePath } from "../../client/sync/at_sync.ts";
import { startStack, type Stack } from "../harness.ts";
import { eventually, keysFileOf, netOf, onboarded } from "./fixture.ts";
import { cliEnv, runClientCli, spawnClientCli } from "../client_cli.ts";

let stack: Stack;
let phone: AtClient;
let laptop: AtClient;
let phoneSync: AtSync;
let laptopSync: AtSync;
let laptopKeys: string;

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@alice", "@bob"] });
  const [alice, bob] = await Promise.all([onboarded(stack, "@alice"), onboarded(stack, "@bob")]);
  bob.close();
  phone = alice;
  // The second device: a copy of the keys in its own folder, so its cache (beside the keys) is its own.
  laptopKeys = join(stack.home, "laptop", "@alice_key.atKeys");
  await Bun.write(laptopKeys, "");
  copyFileSync(keysFileOf(stack, "@alice"), laptopKeys);
  laptop = await AtClient.open({ ...netOf(stack), keysFile: laptopKeys });
  phoneSync = AtSync.open(phone, syncCachePath(keysFileOf(stack, "@alice")));
  laptopSync = AtSync.open(laptop, syncCachePath(laptopKeys));
});
afterAll(async () => {
  phoneSync?.close();
  laptopSync?.close();
  phone?.close();
  laptop?.close();
  await stack?.stop();
});

test("offline changes on one device reach the other: self, shared and public values, decrypted there", async () => {
  await phoneSync.put("phone.wavi", "+1-555-0100");
  await phoneSync.put("@bob:email.wavi", "alice@example.com");
  await phoneSync.put("public:status.wavi", "online");
  expect(phoneSync.pending()).toBe(3);
  expect(await phone.exists("phone.wavi")).toBe(false); // nothing left the device yet
  const pushed = await phoneSync.sync();
  expect(pushed).toMatchObject({ pushed: 3, conflicts: [], failed: [] });
  expect(phoneSync.pending()).toBe(0);
  expect((await phone.get("phone.wavi")).value).toBe("+1-555-0100");

  const pulled = await laptopSync.sync();
  expect(pulled.pulled).toBeGreaterThanOrEqual(3);
  expect(await laptopSync.get("phone.wavi")).toBe("+1-555-0100");
  expect(await laptopSync.get("@bob:email.wavi")).toBe("alice@example.com");
  expect(await laptopSync.get("public:status.wavi")).toBe("online");
  expect(laptopSync.keys(/wavi/)).toEqual(["@bob:email.wavi@alice", "phone.wavi@alice", "public:status.wavi@alice"]);
  expect(statSync(syncCachePath(laptopKeys)).mode & 0o777).toBe(0o600);
});

test("writes made straight through the SDK on one device are pulled by the other", async () => {
  await phone.put("city.wavi", "Porto");
  await laptopSync.sync();
  expect(await laptopSync.get("city.wavi")).toBe("Porto");
});

test("deletes propagate both ways", async () => {
  phoneSync.delete("phone.wavi");
  expect((await phoneSync.sync()).pushed).toBe(1);
  expect(await phoneSync.get("phone.wavi")).toBeNull();
  await laptopSync.sync();
  expect(await laptopSync.get("phone.wavi")).toBeNull();
  expect(laptopSync.keys()).not.toContain("phone.wavi@alice");

  await laptop.delete("city.wavi");
  await phoneSync.sync();
  expect(await phoneSync.get("city.wavi")).toBeNull();
});

test("conflict: a key changed on the server and, unpushed, on this device — the local change wins and both converge", async () => {
  await phoneSync.sync();
  await laptopSync.sync();
  await laptopSync.put("lang.wavi", "pt"); // offline on the laptop
  await phone.put("lang.wavi", "en"); // meanwhile the phone writes to the server
  const r = await laptopSync.sync();
  expect(r.conflicts.map((c) => c.key)).toEqual(["lang.wavi@alice"]);
  expect(r.pushed).toBe(1);
  expect(await laptopSync.get("lang.wavi")).toBe("pt");
  expect((await phone.get("lang.wavi")).value).toBe("pt");
  await phoneSync.sync();
  expect(await phoneSync.get("lang.wavi")).toBe("pt");
  // Both caches hold the same keys with the same values now.
  expect(phoneSync.keys()).toEqual(laptopSync.keys());
});

test("bun client.ts sync: pulls into the device's cache beside its .atKeys and lists the keys", async () => {
  await phone.put("cli.wavi", "from the phone");
  const third = join(stack.home, "tablet", "@alice_key.atKeys");
  await Bun.write(third, "");
  copyFileSync(keysFileOf(stack, "@alice"), third);
  const { out, err, code } = await runClientCli(["sync", "--list", "--json", "--keys", third, "--ca", stack.caFile, "--directory", `${stack.directory.host}:${stack.directory.port}`], cliEnv(stack));
  expect({ code, err }).toEqual({ code: 0, err: "" });
  const report = JSON.parse(out);
  expect(report.keys).toContain("cli.wavi@alice");
  expect(report.failed).toEqual([]);
  expect(existsSync(syncCachePath(third))).toBe(true);
});

test("watch: the laptop's cache follows the phone's writes through stats notifications, no sync call needed", async () => {
  const reports: number[] = [];
  const errors: Error[] = [];
  const watch = laptopSync.watch({ onSync: (r) => reports.push(r.lastCommitId), onError: (e) => errors.push(e) });
  try {
    await watch.ready;
    await phone.put("watched.wavi", "live");
    await eventually(async () => (await laptopSync.get("watched.wavi")) === "live", 20_000, "watched change");
    await phone.delete("watched.wavi");
    await eventually(async () => (await laptopSync.get("watched.wavi")) === null, 20_000, "watched delete");
    expect(errors).toEqual([]);
    expect(reports.length).toBeGreaterThanOrEqual(2);
  } finally {
    watch.close();
  }
});

test("bun client.ts sync --watch prints a report each time the server has news; SIGTERM ends it with 0", async () => {
  const device = join(stack.home, "watcher", "@alice_key.atKeys");
  await Bun.write(device, "");
  copyFileSync(keysFileOf(stack, "@alice"), device);
  const proc = spawnClientCli(["sync", "--watch", "--list", "--json", "--keys", device, "--ca", stack.caFile, "--directory", `${stack.directory.host}:${stack.directory.port}`], cliEnv(stack));
  let out = "";
  let err = "";
  const decoder = new TextDecoder();
  void (async () => {
    for await (const c of proc.stdout) out += decoder.decode(c, { stream: true });
  })();
  void (async () => {
    for await (const c of proc.stderr) err += decoder.decode(c, { stream: true });
  })();
  try {
    await eventually(() => err.includes("watching @alice"), 20_000, "watch start");
    await phone.put("watchcli.wavi", "seen by the watcher");
    await eventually(() => out.includes("watchcli.wavi@alice"), 20_000, "report with the new key");
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    const last = JSON.parse(out.trim().split("\n").at(-1)!);
    expect(last.keys).toContain("watchcli.wavi@alice");
  } finally {
    proc.kill();
  }
});
