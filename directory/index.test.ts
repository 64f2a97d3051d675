import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serviceTls } from "../core/net/tls.ts";
import { ADMIN_TOKEN_FILE } from "../core/admin_token.ts";
import { BindError, startDirectory } from "./index.ts";
import { dialTls } from "./raw_tls_client.ts";

const home = mkdtempSync(join(tmpdir(), "inlay-directory-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const tls = await serviceTls({ home });
const ca = tls.ca!;

/** Registers over the real admin socket, then resolves over the real root socket. */
async function registerAndResolve(dir: { adminUrl: string; token: string; port: number }, name: string, host: string, port: number) {
  const res = await fetch(`${dir.adminUrl}/v1/atsigns/${name}`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${dir.token}`, "content-type": "application/json" },
    body: JSON.stringify({ host, port }),
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ atSign: "@" + name, host, port });
  return resolve(dir.port, name);
}

async function resolve(rootPort: number, name: string): Promise<string> {
  const c = await dialTls(rootPort, { ca });
  try {
    await c.waitFor("@");
    c.write(name + "\n");
    return await c.waitFor("\r\n@");
  } finally {
    c.close();
  }
}

test("admin registration over HTTP is visible on the root protocol; data and token survive a restart", async () => {
  const dataDir = join(home, "restart");
  let dir = await startDirectory({ port: 0, adminPort: 0, dataDir, tls });
  const token = dir.token;
  expect(token).toMatch(/^[0-9a-f]{64}$/);
  expect(readFileSync(join(dataDir, ADMIN_TOKEN_FILE), "utf8").trim()).toBe(token);
  expect(statSync(join(dataDir, ADMIN_TOKEN_FILE)).mode & 0o777).toBe(0o600);
  expect(dir.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(await registerAndResolve(dir, "alice", "alice.example", 6464)).toBe("@alice.example:6464\r\n@");
  const unauth = await fetch(`${dir.adminUrl}/v1/atsigns/alice`);
  expect(unauth.status).toBe(401);
  await dir.stop();
  await dir.stop(); // idempotent

  dir = await startDirectory({ port: 0, adminPort: 0, dataDir, tls });
  try {
    expect(dir.token).toBe(token);
    expect(await (await fetch(`${dir.adminUrl}/healthz`)).json()).toEqual({ ok: true, count: 1 });
    expect(await resolve(dir.port, "alice")).toBe("@alice.example:6464\r\n@");
  } finally {
    await dir.stop();
  }
});

test("an explicit token is used and not written to disk", async () => {
  const dataDir = join(home, "explicit");
  const dir = await startDirectory({ port: 0, adminPort: 0, dataDir, tls, token: "given-token" });
  try {
    expect(dir.token).toBe("given-token");
    expect(() => statSync(join(dataDir, ADMIN_TOKEN_FILE))).toThrow();
    const res = await fetch(`${dir.adminUrl}/v1/atsigns`, { headers: { Authorization: "Bearer given-token" } });
    expect(await res.json()).toEqual({ items: [], next: null });
  } finally {
    await dir.stop();
  }
});

test("a taken port is a BindError that names the flag and suggests another port; nothing is left listening", async () => {
  const dataDir = join(home, "bind");
  const first = await startDirectory({ port: 0, adminPort: 0, dataDir, tls });
  try {
    const rootTaken = startDirectory({ host: "127.0.0.1", port: first.port, adminPort: 0, dataDir, tls });
    const err = await rootTaken.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BindError);
    expect((err as BindError).code).toBe("EADDRINUSE");
    expect((err as BindError).message).toMatch(new RegExp(`^Cannot listen on 127\\.0\\.0\\.1:${first.port}: the port is in use; try another port, e\\.g\\. --port \\d+$`));
    const adminPort = Number(new URL(first.adminUrl).port);
    const adminTaken = startDirectory({ port: 0, adminPort, dataDir, tls });
    await expect(adminTaken).rejects.toThrow(`Cannot listen on 127.0.0.1:${adminPort}: the port is in use; try another port, e.g. --admin-port `);
    // The first directory still answers after the failed starts.
    expect(await resolve(first.port, "nobody")).toBe("@null\r\n@");
  } finally {
    await first.stop();
  }
});
