/**
 * `bun run start` (dev.ts) survives the death of one of its children: the child is started again after a delay,
 * the stack says so, and the others keep serving. Regression: one child's exit used to stop the whole stack.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { MAX_RESTARTS_IN_A_ROW, RESTART_MAX_DELAY_MS, restartDelayMs } from "../../ops/dev/supervisor.ts";
import { runClientCli } from "../client_cli.ts";

const ROOT = join(import.meta.dir, "..", "..");
/** Bound on each awaited line of the stack's output. */
const LINE_TIMEOUT_MS = 40_000;

const home = mkdtempSync(join(tmpdir(), "inlay-dev-stack-"));
let stack: Bun.Subprocess<"ignore", "pipe", "inherit"> | undefined;
afterAll(async () => {
  stack?.kill("SIGTERM");
  await stack?.exited;
  rmSync(home, { recursive: true, force: true });
});

test("restart delays double from 1 s up to the cap, and restarts in a row are bounded", () => {
  expect([1, 2, 3].map(restartDelayMs)).toEqual([1_000, 2_000, 4_000]);
  expect(restartDelayMs(20)).toBe(RESTART_MAX_DELAY_MS);
  expect(MAX_RESTARTS_IN_A_ROW).toBeGreaterThan(0);
});

test("a killed child is restarted, said so, and serves again; the stack kept running", async () => {
  const free = () => {
    const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = l.port;
    l.stop(true);
    return String(port);
  };
  const env = { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`, HOME: home, INLAY_LOG: "warn" };
  stack = Bun.spawn([process.execPath, "dev.ts", "--atsigns", "@alice", "--relay", "", "--api", "", "--directory-port", free(), "--admin-port", free(), "--demo-port", free()], {
    cwd: ROOT,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of stack!.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      const parts = pending.split("\n");
      pending = parts.pop()!;
      lines.push(...parts);
      waiters.splice(0).forEach((w) => w());
    }
  })();
  const line = async (re: RegExp): Promise<RegExpExecArray> => {
    const deadline = Date.now() + LINE_TIMEOUT_MS;
    for (;;) {
      for (const l of lines) {
        const m = re.exec(l);
        if (m) return m;
      }
      if (Date.now() > deadline || stack!.exitCode !== null) throw new Error(`no line ${re} in:\n${lines.join("\n")}`);
      await new Promise<void>((r) => (waiters.push(r), setTimeout(r, deadline - Date.now())));
    }
  };

  await line(/Inlay \S+ is running/);
  const pid = Number((await line(/^\[dev\] @alice is up \(pid (\d+)\)$/))[1]);
  process.kill(pid, "SIGKILL");
  await line(/^\[dev\] @alice exited with code \d+; restarting it in 1 s/);
  await line(/^\[dev\] @alice is back \(pid \d+\)$/);
  expect(stack.exitCode).toBeNull();
  // The restarted server registered again (a new port): the CLI finds it through the stack's config.json.
  const cliEnv = { ...env, INLAY_HOME: join(home, ".inlay") };
  expect((await runClientCli(["put", "city", "Faro", "--as", "@alice"], cliEnv)).code).toBe(0);
  expect((await runClientCli(["get", "city", "--as", "@alice"], cliEnv)).out).toBe("Faro");
}, 90_000);
