/**
 * `config` (ATPROTOCOL.md §5.14): the block list, and set/reset/print of settings (testing mode only).
 */
import type { CommandOf } from "./command.ts";
import { after, eq, fail, isEntity } from "./_syntax.ts";

const CONFIG_USAGE = "config:block:add|remove:<@sign>[ <@sign>...] | config:block:show | config:set|reset|print:<setting>";

/**
 * Parses `config:block:add:@a @b`, `config:block:remove:@a`, `config:block:show`, `config:set:<name>=<value>`,
 * `config:reset:<name>`, `config:print:<name>`.
 * @example parseConfig("config:block:add:@bob @carol") // { verb: "config", operation: "blockAdd", atSigns: ["@bob", "@carol"] }
 */
export function parseConfig(line: string): CommandOf<"config"> {
  const rest = after(line, "config:") ?? fail(CONFIG_USAGE);
  const block = after(rest, "block:");
  if (block !== null) {
    if (eq(block.trimEnd(), "show")) return { verb: "config", operation: "blockShow" };
    const m = /^(add|remove):(.+)$/i.exec(block);
    if (!m) fail(CONFIG_USAGE);
    const atSigns = (m[2] ?? "").split(" ");
    if (!atSigns.every((a) => a.startsWith("@") && isEntity(a.slice(1)))) fail(CONFIG_USAGE);
    return { verb: "config", operation: eq(m[1], "add") ? "blockAdd" : "blockRemove", atSigns };
  }
  const m = /^(set|reset|print):(.+)$/i.exec(rest);
  if (!m) fail(CONFIG_USAGE);
  return { verb: "config", operation: (m[1] ?? "").toLowerCase() as "set" | "reset" | "print", setting: m[2] ?? "" };
}

/**
 * Builds a config line.
 * @example buildConfig({ verb: "config", operation: "blockShow" }) // "config:block:show"
 */
export function buildConfig(cmd: CommandOf<"config">): string {
  switch (cmd.operation) {
    case "blockAdd":
      return `config:block:add:${cmd.atSigns.join(" ")}`;
    case "blockRemove":
      return `config:block:remove:${cmd.atSigns.join(" ")}`;
    case "blockShow":
      return "config:block:show";
    default:
      return `config:${cmd.operation}:${cmd.setting}`;
  }
}
