/**
 * `config` (ATPROTOCOL.md §5.14): the block list, and set/reset/print of settings (testing mode only).
 * `config:allow:*` is our extension with the block list's grammar: when the allow list is not empty, only the
 * @signs on it may authenticate as another @sign (pol), and so notify or look up shared data.
 */
import type { CommandOf } from "./command.ts";
import { after, eq, fail, isEntity } from "./_syntax.ts";

const CONFIG_USAGE = "config:block|allow:add|remove:<@sign>[ <@sign>...] | config:block|allow:show | config:set|reset|print:<setting>";

/** The two access lists `config` manages. */
export type AccessListName = "block" | "allow";
const OPERATIONS = {
  block: { add: "blockAdd", remove: "blockRemove", show: "blockShow" },
  allow: { add: "allowAdd", remove: "allowRemove", show: "allowShow" },
} as const;

/**
 * Parses `config:block:add:@a @b`, `config:block:remove:@a`, `config:block:show` (likewise `config:allow:...`),
 * `config:set:<name>=<value>`, `config:reset:<name>`, `config:print:<name>`.
 * @example parseConfig("config:block:add:@bob @carol") // { verb: "config", operation: "blockAdd", atSigns: ["@bob", "@carol"] }
 */
export function parseConfig(line: string): CommandOf<"config"> {
  const rest = after(line, "config:") ?? fail(CONFIG_USAGE);
  for (const list of ["block", "allow"] as const) {
    const body = after(rest, `${list}:`);
    if (body === null) continue;
    if (eq(body.trimEnd(), "show")) return { verb: "config", operation: OPERATIONS[list].show };
    const m = /^(add|remove):(.+)$/i.exec(body);
    if (!m) fail(CONFIG_USAGE);
    const atSigns = (m[2] ?? "").split(" ");
    if (!atSigns.every((a) => a.startsWith("@") && isEntity(a.slice(1)))) fail(CONFIG_USAGE);
    return { verb: "config", operation: eq(m[1], "add") ? OPERATIONS[list].add : OPERATIONS[list].remove, atSigns };
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
    case "allowAdd":
      return `config:${accessListOf(cmd.operation)}:add:${cmd.atSigns.join(" ")}`;
    case "blockRemove":
    case "allowRemove":
      return `config:${accessListOf(cmd.operation)}:remove:${cmd.atSigns.join(" ")}`;
    case "blockShow":
    case "allowShow":
      return `config:${accessListOf(cmd.operation)}:show`;
    default:
      return `config:${cmd.operation}:${cmd.setting}`;
  }
}

/** Which access list a config operation works on. */
export function accessListOf(operation: `${AccessListName}${"Add" | "Remove" | "Show"}`): AccessListName {
  return operation.startsWith("allow") ? "allow" : "block";
}
