/**
 * Runs one phase of an SDK's driver as a child process (its own HOME, the dev CA trusted the runtime's way)
 * and reads its step lines: `interop-step<TAB>name<TAB>ok|fail|unsupported<TAB>detail`, and
 * `interop-version<TAB>package<TAB>version`.
 */
import type { InstalledSdk } from "./sdks.ts";
import type { Outcome, Status } from "./steps.ts";

/** Longest time one driver phase may take (its monitor waits stop at 30 s; the rest takes a few seconds). */
export const DRIVER_PHASE_TIMEOUT_MS = 60_000;
/** Lines of the driver's stderr kept for a failure message. */
const STDERR_TAIL_LINES = 20;

/** What one phase printed. */
export interface PhaseResult {
  version?: string;
  steps: Map<string, Outcome>;
  /** Exit code (or signal) and the end of stderr, to explain steps that were not reported. */
  exit: string;
  stderrTail: string;
}

const STATUSES = new Set<string>(["ok", "fail", "unsupported"]);

/** Parses a driver's stdout; lines that are not step or version lines (the SDK's own logging) are ignored. */
export function parseDriverOutput(out: string): { version?: string; steps: Map<string, Outcome> } {
  const steps = new Map<string, Outcome>();
  let version: string | undefined;
  for (const line of out.split("\n")) {
    const [tag, a, b, ...rest] = line.replace(/\r$/, "").split("\t");
    if (tag === "interop-version" && b) version = b;
    if (tag === "interop-step" && a && b && STATUSES.has(b)) steps.set(a, { status: b as Status, detail: rest.join(" ") });
  }
  return { version, steps };
}

/**
 * Runs `phase` of the driver with `context` as JSON on stdin.
 * @example await runDriverPhase(sdk, "onboard", { atSign: "@py" }, { home, caFile })
 */
export async function runDriverPhase(sdk: InstalledSdk, phase: string, context: object, where: { home: string; caFile: string }): Promise<PhaseResult> {
  const proc = Bun.spawn([...sdk.driver, phase], {
    stdin: new TextEncoder().encode(JSON.stringify(context)),
    stdout: "pipe",
    stderr: "pipe",
    timeout: DRIVER_PHASE_TIMEOUT_MS,
    env: { PATH: process.env.PATH ?? "", HOME: where.home, SSL_CERT_FILE: where.caFile, ...sdk.env },
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return {
    ...parseDriverOutput(out),
    exit: proc.signalCode ? `killed by ${proc.signalCode} (timeout ${DRIVER_PHASE_TIMEOUT_MS} ms?)` : `exit ${code}`,
    stderrTail: err.trim().split("\n").slice(-STDERR_TAIL_LINES).join("\n"),
  };
}
