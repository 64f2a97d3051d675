/**
 * The `bun server.ts` entry as a user runs it: help, usage errors, start-up output (listening line and the
 * onboarding command), registration in a real directory, the 0600 CRAM secret file, and SIGTERM.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serviceTls } from "../core/net/tls.ts";
import { startDirectory } from "../directory/index.ts";

const ENTRY = join(import.meta.dir, "..", "server.ts");
let home: string;
let dir: Awaited<ReturnType<typeof startDirectory>>;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "inlay-entry-"));
  const tls = await serviceTls({ home });
  dir = await startDirectory({ host: "127.0.0.1", port: 0, adminPort: 0, dataDir: join(home, "directory"), tls: { key: tls.key, cert: tls.cert } });
});
afterAll(async () => {
  await dir.stop();
  rmSync(home, { recursive: true, force: true });
});

const env = () => ({ ...process.env, INLAY_HOME: home, INLAY_LOG: "silent" });

test("--help exits 0 and lists the flags; a bad @sign is a usage error (exit 2)", async () => {
  const help = Bun.spawnSync(["bun", ENTRY, "--help"], { env: env() });
  expect(help.exitCode).toBe(0);
  const text = help.stdout.toString();
  for (const flag of ["--host", "--port", "--public-host", "--directory", "--directory-admin", "--token", "--data", "--cram-secret", "--tls-cert", "--tls-key"]) {
    expect(text).toContain(flag);
  }
  const bad = Bun.spawnSync(["bun", ENTRY, "@no!pe"], { env: env() });
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr.toString()).toContain("@sign");
});

test("starts, registers in the directory, prints the listening line and the onboarding command", async () => {
  const data = join(home, "servers", "@entry");
  const proc = Bun.spawn(
    ["bun", ENTRY, "@entry", "--host", "127.0.0.1", "--public-host", "127.0.0.1", "--directory", `${dir.host}:${dir.port}`, "--directory-admin", dir.adminUrl, "--token", dir.token, "--data", data],
    { env: env(), stdout: "pipe", stderr: "pipe" },
  );
  const reader = proc.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 20_000;
  while (!out.includes("bun client.ts onboard") && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  const port = Number(/@entry listening on 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  expect(port).toBeGreaterThan(0);
  expect(out).toMatch(/bun client\.ts onboard @entry --cram [0-9a-f]{128} --directory 127\.0\.0\.1:\d+/);
  expect(statSync(join(data, "cram.secret")).mode & 0o777).toBe(0o600);
  const res = await fetch(`${dir.adminUrl}/v1/atsigns/entry`, { headers: { authorization: `Bearer ${dir.token}` } });
  expect(await res.json()).toEqual({ atSign: "@entry", host: "127.0.0.1", port });
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
}, 30_000);

test("--admin-port serves /healthz, /readyz and /metrics (with the token from DATA/admin.token, 0600)", async () => {
  const data = join(home, "servers", "@adminport");
  const proc = Bun.spawn(
    ["bun", ENTRY, "@adminport", "--host", "127.0.0.1", "--public-host", "127.0.0.1", "--directory", `${dir.host}:${dir.port}`, "--directory-admin", dir.adminUrl, "--token", dir.token, "--data", data, "--admin-port", "0"],
    { env: env(), stdout: "pipe", stderr: "pipe" },
  );
  const reader = proc.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 20_000;
  while (!/admin .* on http:\/\/127\.0\.0\.1:\d+/.test(out) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  const url = /admin .* on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
  expect(url).toBeDefined();
  expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ ok: true, atSign: "@adminport" });
  expect((await fetch(`${url}/readyz`)).status).toBe(200);
  expect((await fetch(`${url}/metrics`)).status).toBe(401);
  const tokenFile = join(data, "admin.token");
  expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
  const metrics = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${(await Bun.file(tokenFile).text()).trim()}` } });
  expect(await metrics.text()).toContain("# TYPE inlay_server_commands_total counter");
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
}, 30_000);
