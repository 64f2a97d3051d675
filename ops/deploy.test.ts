/**
 * What of the deployment can run without a Docker engine: the image's entry script under sh against a real
 * build, the health check (with and without INLAY_PORT), and compose.yaml's services — every command's flags
 * accepted by its entry, and a health check that finds each service's port from its command line alone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildEntries } from "./build.ts";
import { listeningPorts, portOf } from "./healthcheck.ts";

const ROOT = join(import.meta.dir, "..");
const ENTRY_SCRIPT = join(import.meta.dir, "docker_entry.sh");
const compose = Bun.YAML.parse(readFileSync(join(ROOT, "compose.yaml"), "utf8")) as {
  services: Record<string, { command: string[]; entrypoint?: string[]; healthcheck?: { test: string[] }; profiles?: string[] }>;
};

let dist: string;
const home = mkdtempSync(join(tmpdir(), "inlay-deploy-"));
beforeAll(async () => {
  dist = join(home, "app");
  await buildEntries(dist);
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

async function run(cmd: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn(cmd, { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: home, INLAY_HOME: home, ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { out, err, code };
}

describe("the image's entry script (sh)", () => {
  test("runs the bundled entry named first, and refuses others with a usage line", async () => {
    const ok = await run(["sh", ENTRY_SCRIPT, "directory", "--version"], { INLAY_APP: dist });
    expect({ code: ok.code, out: ok.out }).toEqual({ code: 0, out: expect.stringMatching(/^inlay directory \d+\.\d+\.\d+\n$/) });
    const client = await run(["sh", ENTRY_SCRIPT, "client", "get", "--help"], { INLAY_APP: dist });
    expect(client.code).toBe(0);
    const bad = await run(["sh", ENTRY_SCRIPT, "../etc/passwd"], { INLAY_APP: dist });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("usage: docker run inlay directory|server|relay|client");
  });

  test("the health check of the image exits 0 on a listening port and 1 on a closed one", async () => {
    using held = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    expect((await run(["sh", ENTRY_SCRIPT, "healthcheck"], { INLAY_APP: dist, INLAY_PORT: String(held.port) })).code).toBe(0);
    const closed = held.port;
    held.stop(true);
    expect((await run(["sh", ENTRY_SCRIPT, "healthcheck"], { INLAY_APP: dist, INLAY_PORT: String(closed) })).code).toBe(1);
  });

  test("the Dockerfile installs production dependencies only and uses this entry script and health check", () => {
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^RUN bun install --frozen-lockfile --production$/m);
    expect(dockerfile).toContain("COPY ops/docker_entry.sh /app/entry.sh");
    expect(dockerfile).toContain('ENTRYPOINT ["/bin/sh", "/app/entry.sh"]');
    expect(dockerfile).toContain('CMD ["bun", "/app/ops/healthcheck.js"]');
    expect(Bun.file(join(dist, "ops", "healthcheck.js")).size).toBeGreaterThan(0);
  });
});

describe("the health check finds the port without a variable", () => {
  test("from --port, --port=, INLAY_PORT, or the entry's default", () => {
    expect(portOf(["bun", "/app/server.js", "@alice", "--port", "6464"], {})).toBe(6464);
    expect(portOf(["bun", "/app/relay.js", "@relay", "--port=7000"], {})).toBe(7000);
    expect(portOf(["bun", "/app/relay.js", "@relay"], {})).toBe(6466);
    expect(portOf(["bun", "/app/directory.js"], {})).toBe(64);
    expect(portOf(["bun", "/app/server.js", "@alice"], {})).toBe(0);
    expect(portOf(["bun", "/app/server.js", "@alice", "--port", "1"], { INLAY_PORT: "2" })).toBe(2);
  });

  test("a random port is found among the listening sockets of /proc/net/tcp", () => {
    const table = [
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
      "   0: 0100007F:1950 00000000:0000 0A 00000000:00000000 00:00000000 00000000 10001        0 1 1",
      "   1: 0100007F:8F2A 0100007F:1950 01 00000000:00000000 00:00000000 00000000 10001        0 2 1",
    ].join("\n");
    expect(listeningPorts(table)).toEqual([0x1950]);
  });
});

describe("compose.yaml", () => {
  const services = Object.entries(compose.services);

  test("every service's command is accepted by its entry (flags and values)", async () => {
    for (const [name, s] of services) {
      const [entry, ...args] = s.entrypoint ? [s.entrypoint.at(-1)!, ...s.command] : s.command;
      // --help after the flags: the parser rejects an unknown flag or a bad value before it answers --help.
      const r = await run(["bun", join(ROOT, `${entry}.ts`), ...args.filter((a) => a !== "--help"), "--help"]);
      expect({ service: name, code: r.code, err: r.err }).toEqual({ service: name, code: 0, err: "" });
    }
  });

  test("every long-running service has the no-variable health check, and it finds a port in the command", () => {
    for (const [name, s] of services.filter(([, s]) => !s.profiles)) {
      expect({ service: name, test: s.healthcheck?.test }).toEqual({ service: name, test: ["CMD", "bun", "/app/ops/healthcheck.js"] });
      const [entry, ...args] = s.command;
      expect({ service: name, port: portOf(["bun", `/app/${entry}.js`, ...args], {}) }).toEqual({ service: name, port: expect.any(Number) });
      expect(portOf(["bun", `/app/${entry}.js`, ...args], {})).toBeGreaterThan(0);
    }
  });
});
