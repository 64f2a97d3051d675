/**
 * `config` (ATPROTOCOL.md §5.14): the block list, and set/reset/print of settings (testing mode only).
 * `config:allow:*` is our extension with the block list's grammar: when the allow list is not empty, only the
 * @signs on it may authenticate as another @sign (pol), and so notify or look up shared data.
 */
import type { CommandOf, GatekeeperOperation } from "./command.ts";
import { after, eq, fail, isEntity } from "./_syntax.ts";

const CONFIG_USAGE = "config:block|allow:add|remove:<@sign>[ <@sign>...] | config:block|allow:show | config:set|reset|print:<setting> | config:gatekeeper:...";
const GATEKEEPER_USAGE =
  "config:gatekeeper:show | config:gatekeeper:unknown:in|out:<namespace>|*:allow|quarantine|deny | config:gatekeeper:allow|deny|forget:in|out:<namespace>|*:<@sign>[ <@sign>...] | config:gatekeeper:quarantine:list | config:gatekeeper:quarantine:admit:<@sign> | config:gatekeeper:quarantine:reject[:block]:<@sign>";
/** Longest namespace a gatekeeper rule names. */
export const GATE_NAMESPACE_MAX_CHARS = 128;
const GATE_NAMESPACE = new RegExp(`^(?:\\*|[a-z0-9_][a-z0-9_.-]{0,${GATE_NAMESPACE_MAX_CHARS - 1}})$`);

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
  const gate = after(rest, "gatekeeper:");
  if (gate !== null) return { verb: "config", operation: "gatekeeper", gate: parseGatekeeper(gate.trimEnd()) };
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
    case "gatekeeper":
      return `config:gatekeeper:${buildGatekeeper(cmd.gate)}`;
    default:
      return `config:${cmd.operation}:${cmd.setting}`;
  }
}

/** Which access list a config operation works on. */
export function accessListOf(operation: `${AccessListName}${"Add" | "Remove" | "Show"}`): AccessListName {
  return operation.startsWith("allow") ? "allow" : "block";
}

function atSignList(text: string, usage: string): string[] {
  const atSigns = text.split(" ");
  if (!atSigns.every((a) => a.startsWith("@") && isEntity(a.slice(1)))) fail(usage);
  return atSigns;
}

/** The part of a `config:gatekeeper:` line after that prefix (our extension; see GATEKEEPER_USAGE). */
function parseGatekeeper(body: string): GatekeeperOperation {
  if (eq(body, "show")) return { op: "show" };
  if (eq(body, "quarantine:list")) return { op: "quarantineList" };
  const q = /^quarantine:(admit|reject|reject:block):(@\S+)$/i.exec(body);
  if (q) {
    const [atSign] = atSignList(q[2] ?? "", GATEKEEPER_USAGE);
    const verb = (q[1] ?? "").toLowerCase();
    return verb === "admit" ? { op: "admit", atSign: atSign! } : { op: "reject", atSign: atSign!, block: verb === "reject:block" };
  }
  const m = /^(unknown|allow|deny|forget):(in|out):([^:]+):(.+)$/i.exec(body);
  if (!m || !GATE_NAMESPACE.test(m[3] ?? "")) fail(GATEKEEPER_USAGE);
  const op = (m[1] ?? "").toLowerCase() as "unknown" | "allow" | "deny" | "forget";
  const direction = (m[2] ?? "").toLowerCase() as "in" | "out";
  const namespace = m[3] ?? "";
  if (op !== "unknown") return { op, direction, namespace, atSigns: atSignList(m[4] ?? "", GATEKEEPER_USAGE) };
  const policy = (m[4] ?? "").toLowerCase();
  // Nothing can be held on the way out: an outbound rule allows or denies.
  if (policy !== "allow" && policy !== "deny" && !(policy === "quarantine" && direction === "in")) fail(GATEKEEPER_USAGE);
  return { op, direction, namespace, policy };
}

function buildGatekeeper(g: GatekeeperOperation): string {
  switch (g.op) {
    case "show":
      return "show";
    case "quarantineList":
      return "quarantine:list";
    case "admit":
      return `quarantine:admit:${g.atSign}`;
    case "reject":
      return `quarantine:reject:${g.block ? "block:" : ""}${g.atSign}`;
    case "unknown":
      return `unknown:${g.direction}:${g.namespace}:${g.policy}`;
    default:
      return `${g.op}:${g.direction}:${g.namespace}:${g.atSigns.join(" ")}`;
  }
}
