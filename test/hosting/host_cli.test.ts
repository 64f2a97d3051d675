/**
 * `bun client.ts host ...` as a user runs it (a child process) against a hosting process's provisioning API:
 * create, list, status, export, delete, import, reset, with --json and without; refusals exit with the CLI's
 * statuses and one line naming the fix.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { cliEnv, runClientCli } from "../client_cli.ts";
import { startHostingFixture, type HostingFixture } from "./hosting_fixture.ts";

let f: HostingFixture;
let host: (...args: string[]) => ReturnType<typeof runClientCli>;

beforeAll(async () => {
  f = await startHostingFixture();
  host = (...args) => runClientCli(["host", ...args, "--api", f.hosting.api.url, "--token-file", join(f.dir, "admin.token")], cliEnv(f.stack));
});
afterAll(async () => {
  await f.stop();
});

test("create, list, status, export, delete, import and reset through the CLI", async () => {
  const created = await host("create", "@cli1", "--json");
  expect(created.code).toBe(0);
  const c = JSON.parse(created.out);
  // A copy: bun's toMatchObject writes the asymmetric matchers into the object it checks.
  expect({ ...c }).toMatchObject({ atSign: "@cli1", host: "127.0.0.1", port: expect.any(Number), cramSecret: expect.stringMatching(/^[0-9a-f]+$/) });
  const owner = await f.owner(c);
  expect(await owner.send("update:@cli1:k.app@cli1 via-cli")).toMatch(/^data:/);
  owner.close();

  const text = await host("create", "@cli2");
  expect(text.code).toBe(0);
  expect(text.out).toContain("@cli2 created on 127.0.0.1:");
  expect(JSON.parse((await host("list", "--json", "--limit", "1")).out)).toEqual({ items: [{ atSign: "@cli1", host: "127.0.0.1", port: c.port }], next: "@cli1" });
  expect((await host("list", "--after", "@cli1")).out).toMatch(/^@cli2 127\.0\.0\.1:\d+\n$/);
  expect(JSON.parse((await host("status", "@cli1", "--json")).out)).toMatchObject({ atSign: "@cli1", onboarded: false, connections: 0 });

  const file = join(f.stack.home, "cli1.tenant.json");
  expect((await host("export", "@cli1", "--out", file)).code).toBe(0);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect((await host("export", "@cli1", "--out", file)).code).toBe(2);
  expect(JSON.parse((await host("delete", "@cli1", "--json")).out)).toEqual({ atSign: "@cli1", deleted: true });
  const imported = JSON.parse((await host("import", file, "--json")).out);
  expect(imported.atSign).toBe("@cli1");
  const back = await f.owner({ ...c, port: imported.port });
  expect(await back.send("llookup:@cli1:k.app@cli1")).toBe("data:via-cli");
  back.close();

  const reset = JSON.parse((await host("reset", "@cli1", "--json")).out);
  expect(reset.cramSecret).not.toBe(c.cramSecret);
});

test("refusals: usage (2), unknown @sign (1), wrong token (3), no API (4), each one line", async () => {
  const noSub = await host("frobnicate");
  expect(noSub.code).toBe(2);
  expect(noSub.err).toContain("create, list, status");
  const missing = await host("status", "@nobody", "--json");
  expect(missing.code).toBe(1);
  expect(JSON.parse(missing.out).error.message).toContain("@nobody is not hosted here");
  const wrongToken = await runClientCli(["host", "list", "--api", f.hosting.api.url, "--token-file", join(f.stack.home, "directory", "admin.token")], cliEnv(f.stack));
  expect(wrongToken.code).toBe(3);
  const noApi = await runClientCli(["host", "list", "--api", "http://127.0.0.1:1", "--token-file", join(f.dir, "admin.token")], cliEnv(f.stack));
  expect(noApi.code).toBe(4);
  expect(noApi.err.trim().split("\n")).toHaveLength(1);
  const noToken = await runClientCli(["host", "list", "--api", f.hosting.api.url, "--token-file", "/nonexistent"], cliEnv(f.stack));
  expect(noToken.code).toBe(2);
  expect(noToken.err).toContain("--token-file");
});

test("bun server.ts --hosted DIR refuses an @sign argument with the command that provisions it", async () => {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "..", "..", "server.ts"), "--hosted", f.dir, "@alice"], { stdout: "pipe", stderr: "pipe", env: cliEnv(f.stack) });
  const [err, code] = [await new Response(proc.stderr).text(), await proc.exited];
  expect(code).toBe(2);
  expect(err.trim().split("\n")).toHaveLength(1);
  expect(err).toContain("host create @alice");
});
