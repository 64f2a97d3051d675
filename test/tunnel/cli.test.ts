/**
 * The commands as separate processes: `bun relay.ts` publishing its address, `bun client.ts daemon`,
 * `bun client.ts tunnel --relay @relay`, the device daemon killed mid-stream, and (when sshd can run here)
 * `bun client.ts ssh` and scp through a tunnel to an sshd child on a loopback port.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { runCli } from "../../client/cli/run.ts";
import { type TunnelWorld, connectTest, startTunnelWorld, until } from "./fixture.ts";

const ROOT = join(import.meta.dir, "..", "..");
const BUN = process.execPath;

let w: TunnelWorld;
let relay: Child;
beforeAll(async () => {
  w = await startTunnelWorld();
  relay = spawnChild(["relay.ts", "@relay", "--host", "127.0.0.1", "--port", "0", "--admin-port", "0", ...net(), "--keys", w.keysFile("@relay"), "--public-host", "127.0.0.1"]);
  await relay.waitFor(/published public:relay\.inlay@relay = 127\.0\.0\.1:\d+/);
}, 60_000);
// A failed test must not leave its daemon behind for the next one (two daemons would answer one request).
afterEach(() => {
  for (const c of children.splice(0)) if (c !== relay) c.proc.kill(9);
});
afterAll(async () => {
  relay?.proc.kill(9);
  await w?.stop();
});

function net(): string[] {
  return ["--directory", `${w.directory.host}:${w.directory.port}`];
}

interface Child {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  output(): string;
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}
const children: Child[] = [];

function spawnChild(args: string[]): Child {
  const proc = Bun.spawn([BUN, ...args], { cwd: ROOT, env: { ...process.env, INLAY_HOME: w.stack.home, INLAY_LOG: "info" }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let out = "";
  const read = async (s: ReadableStream<Uint8Array>) => {
    const d = new TextDecoder();
    for await (const c of s) out += d.decode(c, { stream: true });
  };
  void read(proc.stdout);
  void read(proc.stderr);
  const child: Child = {
    proc,
    output: () => out,
    async waitFor(re, timeoutMs = 20_000) {
      let m: RegExpExecArray | null = null;
      await until(() => (m = re.exec(out)) !== null || proc.exitCode !== null, timeoutMs, `output ${re}`);
      if (!m) throw new Error(`process exited (${proc.exitCode}) before ${re}: ${out}`);
      return m;
    },
  };
  children.push(child);
  return child;
}

function daemonChild(permit: string): Child {
  return spawnChild(["client.ts", "daemon", "--keys", w.keysFile("@device"), ...net(), "--permit", permit, "--allow", "@bob"]);
}

describe("processes", () => {
  test("tunnel --relay @relay: ready, first byte, and the daemon killed mid-stream resets the stream", async () => {
    const daemon = daemonChild(`127.0.0.1:${w.echo.port}`);
    await daemon.waitFor(/daemon @device \(device default\) ready/);
    const started = performance.now();
    const tunnel = spawnChild(["client.ts", "tunnel", "--keys", w.keysFile("@bob"), ...net(), "@device", "--to", `127.0.0.1:${w.echo.port}`, "--relay", "@relay"]);
    const m = await tunnel.waitFor(/tunnel ready on 127\.0\.0\.1:(\d+) .* \((\d+) ms after start\)/);
    const readyMs = performance.now() - started;
    const c = await connectTest(Number(m[1]));
    await c.write("!");
    await until(() => c.bytes() === 1, 10_000, "first byte");
    const firstByteMs = performance.now() - started;
    console.log(`tunnel process: ready ${readyMs.toFixed(0)} ms after spawn (${m[2]} ms after its own start), first echoed byte ${firstByteMs.toFixed(0)} ms after spawn`);

    // Keep bytes flowing, then kill the daemon without warning.
    const big = randomBytes(1024 * 1024);
    let writing = true;
    void (async () => {
      while (writing) await c.write(big);
    })();
    await until(() => c.bytes() > 4 * 1024 * 1024, 20_000, "bytes flowing");
    daemon.proc.kill(9);
    const how = await Promise.race([c.ended, Bun.sleep(15_000).then(() => "still open")]);
    writing = false;
    expect(how).not.toBe("still open");
    expect(tunnel.proc.exitCode).toBeNull(); // the tunnel survives its peer…
    await tunnel.waitFor(/session ended/); // (the relay closed the session leg too)

    // …and sets up a new session for the next connection once a daemon is back.
    const again = daemonChild(`127.0.0.1:${w.echo.port}`);
    await again.waitFor(/ready/);
    const c2 = await connectTest(Number(m[1]));
    await c2.write("again");
    try {
      await until(() => c2.bytes() === 5, 20_000, "echo through a new session");
    } catch (err) {
      // The children's logs are the only account of what went wrong between them.
      const report = `${(err as Error).message}\n--- tunnel:\n${tunnel.output()}\n--- new daemon:\n${again.output()}`;
      console.error(report);
      throw new Error(report);
    }
    c2.sock.end();
    again.proc.kill("SIGTERM");
    tunnel.proc.kill("SIGTERM");
    expect(await tunnel.proc.exited).toBe(0);
  }, 60_000);
});

describe("allow file", () => {
  test("removing an @sign from --allow-file ends its live tunnel", async () => {
    const file = join(w.stack.home, "allow.txt");
    writeFileSync(file, "# who may connect\n@bob\n");
    const daemon = spawnChild(["client.ts", "daemon", "--keys", w.keysFile("@device"), ...net(), "--permit", `127.0.0.1:${w.echo.port}`, "--allow-file", file]);
    try {
      await daemon.waitFor(/ready: .* allows @bob/);
      const tunnel = spawnChild(["client.ts", "tunnel", "--keys", w.keysFile("@bob"), ...net(), "@device", "--to", `127.0.0.1:${w.echo.port}`, "--relay", "@relay"]);
      const port = Number((await tunnel.waitFor(/tunnel ready on 127\.0\.0\.1:(\d+)/))[1]);
      const c = await connectTest(port);
      await c.write("x");
      await until(() => c.bytes() === 1, 10_000, "echo");
      writeFileSync(file, "@someone_else\n");
      await c.ended; // a reset, or a plain close when nothing was in flight
      tunnel.proc.kill("SIGTERM");
      await tunnel.proc.exited;
    } finally {
      daemon.proc.kill("SIGTERM");
    }
  }, 30_000);
});

describe("relay fleet processes", () => {
  test("relay.ts --fleet publishes several addresses, the tunnel picks the one that answers and says so; SIGTERM drains: the live stream flows on, then it exits 0", async () => {
    const down = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const downPort = down.port;
    down.stop(true);
    // @mallory's keys make a relay @sign of its own here, so the shared @relay record stays as the other tests expect.
    const fleetRelay = spawnChild(["relay.ts", "@mallory", "--host", "127.0.0.1", "--port", "0", "--admin-port", "0", "--drain-timeout", "60", ...net(), "--keys", w.keysFile("@mallory"), "--public-host", "127.0.0.1", "--fleet", `127.0.0.1:${downPort}`]);
    const relayPort = Number((await fleetRelay.waitFor(/relay listening on 127\.0\.0\.1:(\d+)/))[1]);
    await fleetRelay.waitFor(/admin on 127\.0\.0\.1:\d+ \(token in .*admin\.token\)/);
    await fleetRelay.waitFor(new RegExp(`published public:relay\\.inlay@mallory = 127\\.0\\.0\\.1:${relayPort},127\\.0\\.0\\.1:${downPort}`));
    const daemon = daemonChild(`127.0.0.1:${w.echo.port}`);
    await daemon.waitFor(/ready/);
    const tunnel = spawnChild(["client.ts", "tunnel", "--keys", w.keysFile("@bob"), ...net(), "@device", "--to", `127.0.0.1:${w.echo.port}`, "--relay", "@mallory"]);
    const m = await tunnel.waitFor(new RegExp(`tunnel ready on 127\\.0\\.0\\.1:(\\d+) .* via @mallory 127\\.0\\.0\\.1:${relayPort} \\(fastest, [\\d.]+ ms both ends\\)`));
    const c = await connectTest(Number(m[1]));
    await c.write("one");
    await until(() => c.bytes() === 3, 10_000, "echo before SIGTERM");

    fleetRelay.proc.kill("SIGTERM");
    await fleetRelay.waitFor(/draining: 2 live pairs may take up to 60 s/);
    await c.write(" two");
    await until(() => c.bytes() === 7, 10_000, "echo while draining");
    expect(fleetRelay.proc.exitCode).toBeNull();
    // The last sessions end with the tunnel; the relay then stops by itself.
    tunnel.proc.kill("SIGTERM");
    expect(await fleetRelay.proc.exited).toBe(0);
    daemon.proc.kill("SIGTERM");
  }, 60_000);
});

/** Starts sshd as a child on a free loopback port with its own host key and authorized key; null if it cannot run here. */
async function startSshd(dir: string): Promise<{ port: number; clientKey: string; stop(): void } | null> {
  if (!existsSync("/usr/sbin/sshd") || process.getuid?.() !== 0) return null;
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // privilege separation directory sshd insists on
  const run = (cmd: string[]) => Bun.spawnSync(cmd, { stdout: "ignore", stderr: "ignore" }).exitCode;
  if (run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]) !== 0) return null;
  if (run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", join(dir, "client_key")]) !== 0) return null;
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")), { mode: 0o600 });
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  const config = [
    `ListenAddress 127.0.0.1:${port}`,
    `HostKey ${join(dir, "host_key")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
    "UsePAM no",
    "StrictModes no",
    `PidFile ${join(dir, "sshd.pid")}`,
    "Subsystem sftp internal-sftp",
  ].join("\n");
  writeFileSync(join(dir, "sshd_config"), config + "\n");
  const proc = Bun.spawn(["/usr/sbin/sshd", "-D", "-e", "-f", join(dir, "sshd_config")], { stdout: "ignore", stderr: "pipe" });
  try {
    await until(async () => {
      try {
        const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
        s.end();
        return true;
      } catch {
        return proc.exitCode !== null;
      }
    }, 10_000, "sshd listening");
  } catch {
    proc.kill(9);
    return null;
  }
  if (proc.exitCode !== null) return null;
  return { port, clientKey: join(dir, "client_key"), stop: () => proc.kill(9) };
}

describe("ssh and scp through the tunnel", () => {
  test("bun client.ts ssh runs a remote command; scp copies a file both ways, checksummed", async () => {
    const dir = join(w.stack.home, "sshd");
    mkdirSync(dir, { recursive: true });
    const sshd = await startSshd(dir);
    if (!sshd) {
      console.log("sshd cannot run here: ssh/scp test skipped");
      return;
    }
    const daemon = daemonChild(`127.0.0.1:${sshd.port}`);
    try {
      await daemon.waitFor(/ready/);
      const sshOpts = ["--ssh-option", `IdentityFile=${sshd.clientKey}`, "--ssh-option", "StrictHostKeyChecking=no", "--ssh-option", "UserKnownHostsFile=/dev/null", "--ssh-option", "BatchMode=yes", "--ssh-option", "LogLevel=ERROR"];
      const ssh = spawnChild(["client.ts", "ssh", "--keys", w.keysFile("@bob"), ...net(), "@device", "--relay", "@relay", "--port", String(sshd.port), "--user", "root", ...sshOpts, "--", "echo", "hello-through-inlay"]);
      expect(await ssh.proc.exited).toBe(0);
      expect(ssh.output()).toContain("hello-through-inlay");

      const tunnel = spawnChild(["client.ts", "tunnel", "--keys", w.keysFile("@bob"), ...net(), "@device", "--to", `127.0.0.1:${sshd.port}`, "--relay", "@relay"]);
      const port = (await tunnel.waitFor(/tunnel ready on 127\.0\.0\.1:(\d+)/))[1]!;
      const src = join(dir, "payload.bin");
      const payload = randomBytes(8 * 1024 * 1024);
      writeFileSync(src, payload);
      const scpArgs = ["-q", "-P", port, "-i", sshd.clientKey, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes"];
      expect(Bun.spawnSync(["scp", ...scpArgs, src, `root@127.0.0.1:${join(dir, "uploaded.bin")}`]).exitCode).toBe(0);
      expect(Bun.spawnSync(["scp", ...scpArgs, `root@127.0.0.1:${join(dir, "uploaded.bin")}`, join(dir, "downloaded.bin")]).exitCode).toBe(0);
      const sum = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
      expect(sum(readFileSync(join(dir, "downloaded.bin")))).toBe(sum(payload));
      tunnel.proc.kill("SIGTERM");
      await tunnel.proc.exited;
    } finally {
      daemon.proc.kill("SIGTERM");
      sshd.stop();
    }
  }, 60_000);
});

describe("usage errors (in process)", () => {
  const run = async (argv: string[]) => {
    const err: string[] = [];
    const code = await runCli(argv, {}, { stdin: async function* () {}, out: () => {}, err: (l) => void err.push(l), stdoutIsTty: false });
    return { code, err: err.join("\n") };
  };
  const cases: [string[], RegExp][] = [
    [["tunnel", "@device"], /Missing --relay/],
    [["tunnel", "@device", "@other", "--relay", "@relay"], /exactly one @DEVICE/],
    [["tunnel", "not-an-atsign!", "--relay", "@relay"], /Invalid device @sign/],
    [["daemon", "--allow", "@bob"], /at least one --permit/],
    [["daemon", "--permit", "127.0.0.1:22"], /at least one --allow/],
    [["daemon", "--permit", "nohost", "--allow", "@bob"], /Cannot parse permit "nohost"/],
    [["daemon", "--permit", "127.0.0.1:22", "--allow", "@bob", "--name", "Bad Name"], /Invalid --name/],
    [["ssh"], /needs the @DEVICE/],
  ];
  for (const [argv, re] of cases) {
    test(`${argv.join(" ")} → exit 2`, async () => {
      const r = await run(argv);
      expect(r.err).toMatch(re);
      expect(r.code).toBe(2);
    });
  }
});
