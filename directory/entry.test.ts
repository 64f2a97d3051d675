/** `bun directory.ts` as a child process: ready line, answers, bind-refused message, --help. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { devCaPath } from "../core/crypto/dev_ca.ts";
import { dialTls } from "./raw_tls_client.ts";

const ENTRY = join(import.meta.dir, "..", "directory.ts");
const READY_TIMEOUT_MS = 10_000;
const home = mkdtempSync(join(tmpdir(), "inlay-directory-entry-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const spawnEntry = (args: string[]) =>
  Bun.spawn({ cmd: [process.execPath, ENTRY, ...args], env: { ...process.env, INLAY_HOME: home, INLAY_LOG: "warn" }, stdout: "pipe", stderr: "pipe" });

/** Reads stdout until it holds two lines (the ready line and the admin line) or the deadline passes. */
async function readyLines(proc: ReturnType<typeof spawnEntry>): Promise<string[]> {
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let out = "";
  const deadline = setTimeout(() => proc.kill(), READY_TIMEOUT_MS);
  try {
    while (out.split("\n").length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      out += decoder.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(deadline);
    reader.releaseLock();
  }
  return out.split("\n");
}

test("the entry prints its ready line, registers through the admin API and answers lookups", async () => {
  await using proc = spawnEntry(["--host", "127.0.0.1", "--port", "0", "--admin-port", "0"]);
  const [ready, admin] = await readyLines(proc);
  const rootPort = Number(/^directory listening on 127\.0\.0\.1:(\d+)$/.exec(ready ?? "")?.[1]);
  expect(rootPort).toBeGreaterThan(0);
  const adminUrl = /^admin API on (http:\/\/127\.0\.0\.1:\d+) \(token in (.+)\)$/.exec(admin ?? "");
  expect(adminUrl).not.toBeNull();
  expect(adminUrl![2]).toBe(join(home, "directory", "admin.token"));
  const token = readFileSync(adminUrl![2]!, "utf8").trim();

  const put = await fetch(`${adminUrl![1]}/v1/atsigns/alice`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ host: "localhost", port: 6464 }),
  });
  expect(put.status).toBe(200);

  const c = await dialTls(rootPort, { ca: readFileSync(devCaPath(home), "utf8") });
  try {
    await c.waitFor("@");
    c.write("alice\n");
    expect(await c.waitFor("\r\n@")).toBe("@localhost:6464\r\n@");
    c.write("@exit\n");
    await c.closed;
  } finally {
    c.close();
  }
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
});

test("a taken port prints one line suggesting another port and exits non-zero", async () => {
  using held = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  await using proc = spawnEntry(["--host", "127.0.0.1", "--port", String(held.port), "--admin-port", "0"]);
  const [code, stderr, stdout] = await Promise.all([proc.exited, new Response(proc.stderr).text(), new Response(proc.stdout).text()]);
  expect(code).toBe(1);
  expect(stdout).toBe("");
  expect(stderr).toMatch(new RegExp(`^directory: Cannot listen on 127\\.0\\.0\\.1:${held.port}: the port is in use; try another port, e\\.g\\. --port \\d+\n$`));
});

test("--help lists every flag; a bad flag exits 2", async () => {
  await using help = spawnEntry(["--help"]);
  const text = await new Response(help.stdout).text();
  expect(await help.exited).toBe(0);
  for (const flag of ["--host", "--port", "--admin-host", "--admin-port", "--data", "--token", "--tls-cert", "--tls-key", "INLAY_PORT"]) expect(text).toContain(flag);
  await using bad = spawnEntry(["--port", "70000"]);
  expect(await bad.exited).toBe(2);
  expect(await new Response(bad.stderr).text()).toStartWith("Invalid --port:");
});
