/**
 * `info`, `info:brief` and `noop` (ATPROTOCOL.md §5.15).
 */
import type { CommandOf } from "./command.ts";
import { AtProtocolError } from "../wire/at_protocol_error.ts";
import { NOOP_MAX_MS } from "../wire/limits.ts";
import { after, fail, parseInteger } from "./_syntax.ts";

/**
 * Parses `info` or `info:brief` (exact, as the reference's accept test).
 * @example parseInfo("info:brief") // { verb: "info", brief: true }
 */
export function parseInfo(line: string): CommandOf<"info"> {
  if (line === "info") return { verb: "info" };
  if (line === "info:brief") return { verb: "info", brief: true };
  fail("info[:brief]");
}

/**
 * Builds `info` or `info:brief`.
 * @example buildInfo({ verb: "info", brief: true }) // "info:brief"
 */
export function buildInfo(cmd: CommandOf<"info">): string {
  return cmd.brief ? "info:brief" : "info";
}

/**
 * Parses `noop:<ms>`; a delay above NOOP_MAX_MS is AT0022 (Illegal arguments), as the reference answers.
 * @example parseNoop("noop:0") // { verb: "noop", delayMs: 0 }
 */
export function parseNoop(line: string): CommandOf<"noop"> {
  const usage = "noop:<milliseconds>";
  const delayMs = parseInteger(after(line, "noop:") ?? "", false) ?? fail(usage);
  if (delayMs > NOOP_MAX_MS) throw new AtProtocolError("AT0022", `noop duration cannot be more than ${NOOP_MAX_MS} ms`);
  return { verb: "noop", delayMs };
}

/**
 * Builds `noop:<ms>`.
 * @example buildNoop({ verb: "noop", delayMs: 0 }) // "noop:0"
 */
export function buildNoop(cmd: CommandOf<"noop">): string {
  return `noop:${cmd.delayMs}`;
}
