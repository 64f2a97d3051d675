/**
 * The dev stack's children: each runs a real entry (`bun server.ts @alice ...`) with its stdout echoed under a
 * name prefix. A child that exits while the stack is up is started again after a growing delay (bounded, and
 * only so many times in a row), and the stack says so; the other children keep running.
 */

/** What to run. Secrets go in `env`, never in `args` (which `ps` shows to every user of the machine). */
export interface ChildSpec {
  name: string;
  /** Arguments of `bun`, e.g. ["server.ts", "@alice", "--port", "0"]. */
  args: string[];
  env?: Record<string, string>;
  /** The line that says the child is ready (matched against each stdout line). */
  ready: RegExp;
  /** Lines not echoed (a server's onboarding hint, when the stack onboards for the user). */
  quiet?: RegExp;
}

/** One supervised child: its spec, the running process, and the restart bookkeeping. */
export interface Child {
  spec: ChildSpec;
  proc: Bun.Subprocess<"ignore", "pipe", "inherit"> | null;
  /** Restarts since it last ran for STABLE_RUN_MS. */
  restarts: number;
  startedAt: number;
  /** Set by stopChild: an exit is then expected and not restarted. */
  stopping: boolean;
  restartTimer: ReturnType<typeof setTimeout> | null;
}

/** How long one child may take to print its ready line at the first start. */
export const READY_TIMEOUT_MS = 30_000;
/** First delay before a restart; it doubles with each restart in a row. */
export const RESTART_BASE_DELAY_MS = 1_000;
/** Longest delay before a restart. */
export const RESTART_MAX_DELAY_MS = 30_000;
/** Restarts in a row after which a child is left stopped (its exits are then not a passing hiccup). */
export const MAX_RESTARTS_IN_A_ROW = 5;
/** A child that ran this long counts as healthy again: its next exit starts the delays from the beginning. */
export const STABLE_RUN_MS = 60_000;
/** How long a stopping child may take after SIGTERM before it is killed. */
export const STOP_GRACE_MS = 5_000;

/** Where the supervisor reports (the dev entry writes it to stdout with a `[dev]` prefix). */
export type Say = (line: string) => void;

/** The delay before restart number `n` (1-based): 1 s, 2 s, 4 s ... capped at RESTART_MAX_DELAY_MS. */
export function restartDelayMs(n: number): number {
  return Math.min(RESTART_BASE_DELAY_MS * 2 ** Math.max(0, n - 1), RESTART_MAX_DELAY_MS);
}

/** Spawns the child's process and echoes its output; resolves with the ready line, or null when it exited first. */
function launch(child: Child, cwd: string, say: Say): Promise<string | null> {
  const { spec } = child;
  const proc = Bun.spawn(["bun", ...spec.args], { cwd, stdin: "ignore", stdout: "pipe", stderr: "inherit", env: { ...process.env, ...spec.env } });
  child.proc = proc;
  child.startedAt = Date.now();
  let resolveReady!: (line: string | null) => void;
  const ready = new Promise<string | null>((r) => (resolveReady = r));
  void echo(proc.stdout, spec, resolveReady);
  void proc.exited.then((code) => {
    resolveReady(null);
    if (child.proc === proc) onExit(child, code, cwd, say);
  });
  return ready;
}

/** Echoes stdout line by line with the child's name; the first line matching `ready` resolves readiness. */
async function echo(stdout: ReadableStream<Uint8Array>, spec: ChildSpec, onReady: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of stdout) {
    pending += decoder.decode(chunk, { stream: true });
    for (let i = pending.indexOf("\n"); i !== -1; i = pending.indexOf("\n")) {
      const line = pending.slice(0, i);
      pending = pending.slice(i + 1);
      if (!spec.quiet?.test(line)) process.stdout.write(`[${spec.name}] ${line}\n`);
      if (spec.ready.test(line)) onReady(line);
    }
  }
}

function onExit(child: Child, code: number, cwd: string, say: Say): void {
  child.proc = null;
  if (child.stopping) return;
  if (Date.now() - child.startedAt >= STABLE_RUN_MS) child.restarts = 0;
  if (child.restarts >= MAX_RESTARTS_IN_A_ROW) {
    say(`${child.spec.name} exited with code ${code} again after ${child.restarts} restarts; leaving it stopped (the rest keeps running; see its output above)`);
    return;
  }
  child.restarts++;
  const delay = restartDelayMs(child.restarts);
  say(`${child.spec.name} exited with code ${code}; restarting it in ${delay / 1000} s (restart ${child.restarts} of at most ${MAX_RESTARTS_IN_A_ROW} in a row)`);
  child.restartTimer = setTimeout(() => {
    child.restartTimer = null;
    if (child.stopping) return;
    void launch(child, cwd, say).then((line) => line && say(`${child.spec.name} is back (pid ${child.proc?.pid})`));
  }, delay);
}

/**
 * Starts a supervised child and waits for its ready line (bounded). A child that exits or stays silent at its
 * first start is an error: the stack cannot come up without it.
 */
export async function startChild(spec: ChildSpec, cwd: string, say: Say): Promise<{ child: Child; readyLine: string }> {
  const child: Child = { spec, proc: null, restarts: 0, startedAt: 0, stopping: false, restartTimer: null };
  // A first start is not restarted: the stack stops with the reason instead.
  child.stopping = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), READY_TIMEOUT_MS)));
  const line = await Promise.race([launch(child, cwd, say), timeout]);
  clearTimeout(timer);
  if (line === "timeout") {
    await stopChild(child);
    throw new Error(`${spec.name} was not ready within ${READY_TIMEOUT_MS / 1000} s (see its output above)`);
  }
  if (line === null) throw new Error(`${spec.name} exited before it was ready (see its output above)`);
  child.stopping = false;
  say(`${spec.name} is up (pid ${child.proc!.pid})`);
  return { child, readyLine: line };
}

/** Stops a child (SIGTERM, then SIGKILL after STOP_GRACE_MS) and cancels a pending restart. */
export async function stopChild(child: Child): Promise<void> {
  child.stopping = true;
  if (child.restartTimer) clearTimeout(child.restartTimer);
  const proc = child.proc;
  if (!proc) return;
  proc.kill("SIGTERM");
  const killer = setTimeout(() => proc.kill("SIGKILL"), STOP_GRACE_MS);
  await proc.exited;
  clearTimeout(killer);
}
