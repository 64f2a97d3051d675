/**
 * The README cannot drift: every command of its ```sh blocks runs, as written, against `bun run start`, in a
 * fresh HOME (so ~/.inlay and ~/.atsign/keys are the test's). Commands that keep running (the stack, services,
 * daemon, tunnel, monitor) start in the background and must print their ready line and still run at the end;
 * the others must exit 0. Only the README's well-known port numbers are swapped for free ones (a developer's own
 * stack may hold 6464), and the commands that CI runs by itself (bun install, bun test ...) are skipped.
 * A block that starts a directory begins a new world: what the previous ones started is stopped first.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const ROOT = join(import.meta.dir, "..");
/** Bound on one foreground command (a put, a fetch through @api ...). */
const COMMAND_TIMEOUT_MS = 30_000;
/** Bound on a background command's ready line (`bun run start` onboards five @signs: RSA keys). */
const READY_TIMEOUT_MS = 60_000;
/** Bound on the whole test. */
const TEST_TIMEOUT_MS = 150_000;
/** Lines of a background command's output kept for the failure message. */
const KEPT_LINES = 200;

/** Commands the README shows that CI runs by itself (or that would run this very test again). */
const SKIPPED: [RegExp, string][] = [
  [/^bun install\b/, "CI installs first"],
  [/^bun (run )?test\b/, "this test runs inside it"],
  [/^bun run (check|deno:test)\b/, "CI runs it"],
  [/^bun bench\.ts\b/, "CI runs the bench smoke"],
];

/** Commands that keep running, and the line that says they are ready. */
const LONG_RUNNING: [RegExp, RegExp][] = [
  [/^bun run start\b/, /Inlay \S+ is running/],
  [/^bun (directory|server|relay)\.ts\b/, /listening on/],
  [/^bun client\.ts daemon\b/, /ready/],
  [/^bun client\.ts tunnel\b/, /tunnel ready/],
  [/^bun client\.ts monitor\b/, /monitoring/],
];

/** The port numbers the README names, swapped for free ones per world. */
const README_PORTS = [6464, 6466, 6467, 6470, 6480, 2222];

interface Background {
  command: string;
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  lines: string[];
  /** Called on every new output line (waitForLine's wake-ups). */
  waiters: (() => void)[];
}

const home = mkdtempSync(join(tmpdir(), "inlay-readme-"));
const running: Background[] = [];
afterAll(async () => {
  await stopAll();
  rmSync(home, { recursive: true, force: true });
});

/** The ```sh blocks of the README, each as its command lines (comments and blank lines dropped). */
export function shBlocks(markdown: string): string[][] {
  const blocks: string[][] = [];
  for (const m of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    // A trailing comment goes too (flags are appended to `bun run start`); no README command quotes a " # ".
    blocks.push(m[1]!.split("\n").map((l) => l.replace(/\s+#\s.*$/, "").trim()).filter((l) => l !== "" && !l.startsWith("#")));
  }
  return blocks;
}

async function freePorts(): Promise<Map<number, number>> {
  const held = README_PORTS.map(() => Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }));
  const map = new Map(README_PORTS.map((p, i) => [p, held[i]!.port]));
  for (const h of held) h.stop(true);
  return map;
}

/** The command with the world's ports; `bun run start` also gets the flags that move its fixed ports. */
function localize(command: string, ports: Map<number, number>): string {
  let out = command.replace(/\b(6464|6466|6467|6470|6480|2222)\b/g, (p) => String(ports.get(Number(p))));
  if (/^bun run start\b/.test(command)) {
    const p = (n: number) => ports.get(n)!;
    out += ` --directory-port ${p(6464)} --admin-port ${p(6480)} --relay-port ${p(6466)} --relay-admin-port ${p(6467)} --demo-port ${p(6470)}`;
  }
  return out;
}

/** Defaults a command relies on without naming them (the services' own ports), moved with the world's. */
function envFor(command: string, ports: Map<number, number>): Record<string, string> {
  const p = (n: number) => String(ports.get(n));
  const base = { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`, HOME: home, INLAY_LOG: "warn" };
  if (/^bun directory\.ts\b/.test(command)) return { ...base, INLAY_ADMIN_PORT: p(6480) };
  if (/^bun server\.ts\b/.test(command)) return { ...base, INLAY_DIRECTORY_ADMIN: `http://127.0.0.1:${p(6480)}` };
  if (/^bun relay\.ts\b/.test(command)) return { ...base, INLAY_PORT: p(6466), INLAY_ADMIN_PORT: p(6467) };
  return base;
}

function spawnShell(command: string, env: Record<string, string>): Bun.Subprocess<"ignore", "pipe", "pipe"> {
  // exec: the command itself gets the signal when the test stops it.
  return Bun.spawn(["sh", "-c", `exec ${command}`], { cwd: ROOT, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
}

/** Collects a stream's lines into `lines` (bounded), calling `onLine` for each. */
async function collect(stream: ReadableStream<Uint8Array>, lines: string[], onLine: () => void): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    const parts = pending.split("\n");
    pending = parts.pop()!;
    for (const l of parts) if (lines.length < KEPT_LINES) lines.push(l);
    onLine();
  }
}

async function startBackground(command: string, env: Record<string, string>, ready: RegExp): Promise<Background> {
  const proc = spawnShell(command, env);
  const bg: Background = { command, proc, lines: [], waiters: [] };
  running.push(bg);
  const wake = () => bg.waiters.splice(0).forEach((w) => w());
  void collect(proc.stdout, bg.lines, wake);
  void collect(proc.stderr, bg.lines, wake);
  const outcome = await Promise.race([waitForLine(bg, ready, READY_TIMEOUT_MS).then((ok) => (ok ? "ready" : `not ready within ${READY_TIMEOUT_MS / 1000} s`)), proc.exited.then((code) => `exited with ${code}`)]);
  if (outcome !== "ready") throw new Error(`README command \`${command}\` ${outcome}:\n${bg.lines.join("\n")}`);
  return bg;
}

/** Waits (bounded) until a background command printed a line matching `re`; false on timeout. */
async function waitForLine(bg: Background, re: RegExp, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!bg.lines.some((l) => re.test(l))) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((r) => {
      bg.waiters.push(r);
      timer = setTimeout(r, left);
    });
    clearTimeout(timer);
  }
  return true;
}

async function runForeground(command: string, env: Record<string, string>): Promise<string> {
  const proc = spawnShell(command, env);
  const timer = setTimeout(() => proc.kill("SIGKILL"), COMMAND_TIMEOUT_MS);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`README command \`${command}\` exited with ${code}:\n${out}${err}`);
  return out;
}

async function stopAll(): Promise<void> {
  for (const bg of running.splice(0).reverse()) {
    bg.proc.kill("SIGTERM");
    const killer = setTimeout(() => bg.proc.kill("SIGKILL"), 10_000);
    await bg.proc.exited;
    clearTimeout(killer);
  }
}

/** No process on the machine shows the directory's admin token on its command line. */
function tokenOnCommandLines(token: string): string[] {
  const hits: string[] = [];
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmdline.includes(token)) hits.push(cmdline.replace(/\0/g, " "));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return hits;
}

test(
  "every ```sh command of README.md works as written against `bun run start`",
  async () => {
    const blocks = shBlocks(readFileSync(join(ROOT, "README.md"), "utf8"));
    expect(blocks.length).toBeGreaterThan(2);
    let ports = await freePorts();
    const ran: string[] = [];
    for (const block of blocks) {
      if (block.some((c) => /^bun (run start|directory\.ts)\b/.test(c))) {
        await stopAll();
        ports = await freePorts();
      }
      for (const command of block) {
        if (SKIPPED.some(([re]) => re.test(command))) continue;
        const local = localize(command, ports);
        const ready = LONG_RUNNING.find(([re]) => re.test(command))?.[1];
        if (ready) await startBackground(local, envFor(command, ports), ready);
        else await runForeground(local, envFor(command, ports));
        ran.push(command);
        if (/^bun run start\b/.test(command)) {
          const token = readFileSync(join(home, ".inlay", "directory", "admin.token"), "utf8").trim();
          expect(tokenOnCommandLines(token)).toEqual([]);
        }
      }
      // What runs in the background must still run when its block is done (a daemon that died is no check).
      for (const bg of running) expect({ command: bg.command, exitCode: bg.proc.exitCode }).toEqual({ command: bg.command, exitCode: null });
      const monitor = running.find((bg) => /client\.ts monitor/.test(bg.command));
      if (monitor && block.some((c) => /client\.ts notify/.test(c))) {
        expect(await waitForLine(monitor, /"key":"@bob:note\.wavi@alice"/, COMMAND_TIMEOUT_MS)).toBe(true);
      }
    }
    expect(ran).toContain("bun run start");
    expect(ran.some((c) => c.startsWith("bun client.ts tunnel"))).toBe(true);
  },
  TEST_TIMEOUT_MS,
);
