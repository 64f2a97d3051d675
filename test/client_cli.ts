/**
 * The client CLI as a user runs it, for end-to-end tests: `bun client.ts <command>` as a child process with only
 * the environment the test gives it (PATH and a HOME/INLAY_HOME inside the test stack).
 */
import type { Subprocess } from "bun";
import { join } from "node:path";
import type { Stack } from "./harness.ts";

/** The CLI entry file. */
export const CLIENT_ENTRY = join(import.meta.dir, "..", "client.ts");

/** What one CLI run printed and how it exited; `out` is stdout as text, `bytes` as it came. */
export interface CliResult {
  code: number;
  out: string;
  bytes: Uint8Array;
  err: string;
}

/** The environment of a CLI run against `stack`: PATH, HOME and INLAY_HOME in the stack's home, then `over`. */
export function cliEnv(stack: Stack, over: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: stack.home, INLAY_HOME: stack.home, ...over };
}

/** Starts `bun client.ts ...args` with piped stdout/stderr (for commands that keep running, like monitor). */
export function spawnClientCli(args: string[], env: Record<string, string>, stdin?: Uint8Array | string): Subprocess<"ignore" | Uint8Array, "pipe", "pipe"> {
  const input = stdin === undefined ? "ignore" : typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin;
  return Bun.spawn([process.execPath, CLIENT_ENTRY, ...args], { stdin: input, stdout: "pipe", stderr: "pipe", env });
}

/** Runs `bun client.ts ...args` to its end. */
export async function runClientCli(args: string[], env: Record<string, string>, stdin?: Uint8Array | string): Promise<CliResult> {
  const proc = spawnClientCli(args, env, stdin);
  const [bytes, err, code] = await Promise.all([new Response(proc.stdout).bytes(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out: new TextDecoder().decode(bytes), bytes, err };
}
