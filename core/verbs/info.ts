/**
 * `info`, `info:brief`, `info:mtls`, `info:mtlsbrief` and `noop` (ATPROTOCOL.md §5.15; mtls forms at_server 3.9).
 */
import type { CommandOf } from "./command.ts";
import { AtProtocolError } from "../wire/at_protocol_error.ts";
import { NOOP_MAX_MS } from "../wire/limits.ts";
import { after, fail, parseInteger } from "./_syntax.ts";

const INFO_MODES = ["brief", "mtls", "mtlsbrief"] as const;

/**
 * Parses `info[:brief|:mtls|:mtlsbrief]` (exact, as the reference's grammar).
 * @example parseInfo("info:brief") // { verb: "info", mode: "brief" }
 */
export function parseInfo(line: string): CommandOf<"info"> {
  if (line === "info") return { verb: "info" };
  const mode = INFO_MODES.find((m) => line === `info:${m}`) ?? fail("info[:brief|:mtls|:mtlsbrief]");
  return { verb: "info", mode };
}

/**
 * Builds an info line.
 * @example buildInfo({ verb: "info", mode: "mtlsbrief" }) // "info:mtlsbrief"
 */
export function buildInfo(cmd: CommandOf<"info">): string {
  return cmd.mode ? `info:${cmd.mode}` : "info";
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
