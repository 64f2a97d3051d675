/**
 * `notify` and its companions: notify:status, notify:list, notify:fetch, notify:remove, notify:all
 * (ATPROTOCOL.md §5.9, §5.10, §6.1).
 */
import type { CommandOf, MetadataPatch } from "./command.ts";
import { after, eq, fail, isEntity, isParamName, nextField, parseBool, parseInteger } from "./_syntax.ts";
import { applyMetadataPair, checkTimeLimit, formatMetadataPatch, type MetadataTimeField } from "./metadata_patch.ts";

const NOTIFY_USAGE =
  "notify[:id:<id>][:update|delete][:messageType:key|text][:priority:<p>][:strategy:all|latest][:latestN:<n>][:notifier:<n>][:ttln:<ms>][<metadata>]:public|@<to>:<key>[@<owner>][:<value>]";

type Notify = CommandOf<"notify">;

/**
 * Parses a notify line; parameters and metadata before the scope may come in any order (at_python puts
 * `ttln` among the metadata, at_c writes `message_type`), unknown names are ignored. After the scope, the key
 * runs to the first `@`; the owner follows, then `:<value>`. Without an `@` the rest is the key (text messages).
 * `strategy:latest` without a `notifier` is AT0003, as in the reference.
 * @example parseNotify("notify:id:n1:update:messageType:key:notifier:SYSTEM:@bob:phone@alice:v")
 *   // { verb: "notify", id: "n1", operation: "update", messageType: "key", notifier: "SYSTEM",
 *   //   metadata: {}, forAtSign: "@bob", atKey: "phone", atSign: "@alice", value: "v" }
 */
export function parseNotify(line: string): Notify {
  let rest = after(line, "notify:") ?? fail(NOTIFY_USAGE);
  const params: Partial<Notify> = {};
  const metadata: MetadataPatch = {};
  for (;;) {
    const colon = rest.indexOf(":");
    if (colon === -1) fail(NOTIFY_USAGE);
    const token = rest.slice(0, colon);
    if (eq(token, "public") || token.startsWith("@")) break;
    rest = rest.slice(colon + 1);
    if ((eq(token, "update") || eq(token, "delete")) && params.operation === undefined) {
      params.operation = token.toLowerCase() as "update" | "delete";
      continue;
    }
    if (!isParamName(token)) fail(NOTIFY_USAGE);
    const field = nextField(rest) ?? fail(NOTIFY_USAGE);
    const value = field.value;
    rest = field.rest;
    if (!applyNotifyParam(params, token, value)) applyMetadataPair(metadata, token, value, NOTIFY_USAGE);
  }
  // The latest-N strategy keeps the newest notifications per notifier, so it cannot do without one.
  if (params.strategy === "latest" && params.notifier === undefined) fail(NOTIFY_USAGE);
  const colon = rest.indexOf(":");
  const scope = rest.slice(0, colon);
  const target = rest.slice(colon + 1);
  if (eq(scope, "public")) params.isPublic = true;
  else if (isEntity(scope.slice(1))) params.forAtSign = scope;
  else fail(NOTIFY_USAGE);
  return { verb: "notify", ...params, metadata, ...parseNotifyTarget(target) };
}

// `true` when `name` is a notify parameter (stored into `p`), `false` to try it as metadata.
function applyNotifyParam(p: Partial<Notify>, name: string, value: string): boolean {
  switch (name.toLowerCase()) {
    case "id":
      if (!/^[\w-]+$/.test(value)) fail(NOTIFY_USAGE);
      p.id = value;
      return true;
    case "messagetype":
    case "message_type":
      p.messageType = eq(value, "key") ? "key" : eq(value, "text") ? "text" : fail(NOTIFY_USAGE);
      return true;
    case "priority":
      p.priority = (["low", "medium", "high"] as const).find((v) => eq(value, v)) ?? fail(NOTIFY_USAGE);
      return true;
    case "strategy":
      p.strategy = eq(value, "all") ? "all" : eq(value, "latest") ? "latest" : fail(NOTIFY_USAGE);
      return true;
    case "latestn":
      p.latestN = parseInteger(value, false) ?? fail(NOTIFY_USAGE);
      return true;
    case "notifier":
      if (!/^[^\s:]+$/.test(value)) fail(NOTIFY_USAGE);
      p.notifier = value;
      return true;
    case "ttln":
      p.ttln = parseInteger(value, false) ?? fail(NOTIFY_USAGE);
      return true;
    default:
      return false;
  }
}

function parseNotifyTarget(target: string): Pick<Notify, "atKey" | "atSign" | "value"> {
  const at = target.indexOf("@");
  const atKey = at === -1 ? target : target.slice(0, at);
  // The reference key: first char not `:`/`@`, and no `::` anywhere. (The reference also wants two or more
  // characters; we accept one-character keys, which update can create.)
  if (atKey.length === 0 || atKey.startsWith(":") || atKey.includes("::")) fail(NOTIFY_USAGE);
  if (at === -1) return { atKey };
  const tail = target.slice(at + 1);
  const colon = tail.indexOf(":");
  const atSign = colon === -1 ? tail : tail.slice(0, colon);
  if (!isEntity(atSign)) fail(NOTIFY_USAGE);
  if (colon === -1) return { atKey, atSign: "@" + atSign };
  const value = tail.slice(colon + 1);
  if (value.length === 0) fail(NOTIFY_USAGE);
  return { atKey, atSign: "@" + atSign, value };
}

/**
 * Builds a notify line in the reference order (what Dart sends).
 * @example buildNotify({ verb: "notify", metadata: {}, forAtSign: "@bob", atKey: "phone", atSign: "@alice" })
 *   // "notify:@bob:phone@alice"
 */
export function buildNotify(cmd: Notify): string {
  let out = "notify";
  if (cmd.id) out += `:id:${cmd.id}`;
  if (cmd.operation) out += `:${cmd.operation}`;
  if (cmd.messageType) out += `:messageType:${cmd.messageType}`;
  if (cmd.priority) out += `:priority:${cmd.priority}`;
  if (cmd.strategy) out += `:strategy:${cmd.strategy}`;
  if (cmd.latestN !== undefined) out += `:latestN:${cmd.latestN}`;
  if (cmd.notifier) out += `:notifier:${cmd.notifier}`;
  if (cmd.ttln !== undefined) out += `:ttln:${cmd.ttln}`;
  out += formatMetadataPatch(cmd.metadata);
  out += cmd.isPublic ? ":public" : `:${cmd.forAtSign}`;
  out += `:${cmd.atKey}${cmd.atSign ?? ""}`;
  return cmd.value === undefined ? out : `${out}:${cmd.value}`;
}

/**
 * Parses `notify:status:<id>`.
 * @example parseNotifyStatus("notify:status:n1") // { verb: "notifyStatus", id: "n1" }
 */
export function parseNotifyStatus(line: string): CommandOf<"notifyStatus"> {
  const id = after(line, "notify:status:");
  if (id === null || !/^\S+$/.test(id)) fail("notify:status:<notificationId>");
  return { verb: "notifyStatus", id };
}

/**
 * Builds `notify:status:<id>`.
 * @example buildNotifyStatus({ verb: "notifyStatus", id: "n1" }) // "notify:status:n1"
 */
export function buildNotifyStatus(cmd: CommandOf<"notifyStatus">): string {
  return `notify:status:${cmd.id}`;
}

/**
 * Parses `notify:fetch:<id>`.
 * @example parseNotifyFetch("notify:fetch:n1") // { verb: "notifyFetch", id: "n1" }
 */
export function parseNotifyFetch(line: string): CommandOf<"notifyFetch"> {
  const id = after(line, "notify:fetch:");
  if (id === null || !/^\S+$/.test(id)) fail("notify:fetch:<notificationId>");
  return { verb: "notifyFetch", id };
}

/**
 * Builds `notify:fetch:<id>`.
 * @example buildNotifyFetch({ verb: "notifyFetch", id: "n1" }) // "notify:fetch:n1"
 */
export function buildNotifyFetch(cmd: CommandOf<"notifyFetch">): string {
  return `notify:fetch:${cmd.id}`;
}

/**
 * Parses `notify:remove:<id>` (id of word characters and `-`).
 * @example parseNotifyRemove("notify:remove:n-1") // { verb: "notifyRemove", id: "n-1" }
 */
export function parseNotifyRemove(line: string): CommandOf<"notifyRemove"> {
  const id = after(line, "notify:remove:");
  if (id === null || !/^[\w-]+$/.test(id)) fail("notify:remove:<notificationId>");
  return { verb: "notifyRemove", id };
}

/**
 * Builds `notify:remove:<id>`.
 * @example buildNotifyRemove({ verb: "notifyRemove", id: "n1" }) // "notify:remove:n1"
 */
export function buildNotifyRemove(cmd: CommandOf<"notifyRemove">): string {
  return `notify:remove:${cmd.id}`;
}

const LIST_USAGE = "notify:list[:<fromDate yyyy-mm-dd>[:<toDate>]][:<regex>]";
const DATE = /^\d{4}-[01]?\d?-[0123]?\d?$/;

/**
 * Parses `notify:list[:<from>[:<to>]][:<regex>]`; dates are `yyyy-mm-dd`, the regex holds no `:`.
 * @example parseNotifyList("notify:list:2024-01-01:.*wavi") // { verb: "notifyList", fromDate: "2024-01-01", regex: ".*wavi" }
 */
export function parseNotifyList(line: string): CommandOf<"notifyList"> {
  const rest = after(line, "notify:list") ?? fail(LIST_USAGE);
  const cmd: CommandOf<"notifyList"> = { verb: "notifyList" };
  if (rest === "") return cmd;
  if (!rest.startsWith(":")) fail(LIST_USAGE);
  const tokens = rest.slice(1).split(":");
  let i = 0;
  if (DATE.test(tokens[i] ?? "")) cmd.fromDate = tokens[i++];
  if (cmd.fromDate !== undefined && DATE.test(tokens[i] ?? "")) cmd.toDate = tokens[i++];
  if (i < tokens.length) cmd.regex = tokens[i++];
  if (i !== tokens.length || cmd.regex === "") fail(LIST_USAGE);
  return cmd;
}

/**
 * Builds a notify:list line.
 * @example buildNotifyList({ verb: "notifyList", regex: "wavi" }) // "notify:list:wavi"
 */
export function buildNotifyList(cmd: CommandOf<"notifyList">): string {
  let out = "notify:list";
  if (cmd.fromDate !== undefined) out += `:${cmd.fromDate}`;
  if (cmd.toDate !== undefined) out += `:${cmd.toDate}`;
  return cmd.regex === undefined ? out : `${out}:${cmd.regex}`;
}

const ALL_USAGE =
  "notify:all[:update|delete][:messageType:key|text][:ttl:<ms>][:ttb:<ms>][:ttr:<s>][:ccd:true|false]:<@to>[,<@to>...]:<key>[@<owner>][:<value>]";

/**
 * Parses `notify:all:[op:][messageType:<t>:][ttl:<n>:][ttb:<n>:][ttr:<n>:][ccd:<b>:]<@a>,<@b>:<key>[@owner][:value]`
 * (options in any order).
 * @example parseNotifyAll("notify:all:@bob,@carol:phone@alice:hi")
 *   // { verb: "notifyAll", recipients: ["@bob", "@carol"], atKey: "phone", atSign: "@alice", value: "hi" }
 */
export function parseNotifyAll(line: string): CommandOf<"notifyAll"> {
  let rest = after(line, "notify:all:") ?? fail(ALL_USAGE);
  const cmd: Partial<CommandOf<"notifyAll">> = {};
  // Options are `name:value:` pairs (or a bare operation) ahead of the recipient list.
  for (;;) {
    const m = /^([A-Za-z]+)(?::([^:]*))?:/.exec(rest);
    const name = m?.[1]?.toLowerCase();
    if (!m || !name) break;
    if ((name === "update" || name === "delete") && cmd.operation === undefined) {
      cmd.operation = name;
      rest = rest.slice(name.length + 1);
      continue;
    }
    const value = m[2];
    if (value === undefined) break;
    if (name === "messagetype") cmd.messageType = eq(value, "key") ? "key" : eq(value, "text") ? "text" : fail(ALL_USAGE);
    else if (name === "ttl" || name === "ttb" || name === "ttr") cmd[name] = allTime(name, value);
    else if (name === "ccd") cmd.ccd = parseBool(value) ?? fail(ALL_USAGE);
    else break;
    rest = rest.slice(m[0].length);
  }
  const colon = rest.indexOf(":");
  if (colon === -1) fail(ALL_USAGE);
  const recipients = rest.slice(0, colon).split(",");
  if (!recipients.every((r) => /^[^:\s,]+$/.test(r))) fail(ALL_USAGE);
  const target = rest.slice(colon + 1);
  const keyEnd = target.search(/[@:]/);
  const atKey = keyEnd === -1 ? target : target.slice(0, keyEnd);
  if (!isEntity(atKey)) fail(ALL_USAGE);
  const out: CommandOf<"notifyAll"> = { verb: "notifyAll", ...cmd, recipients, atKey };
  let tail = keyEnd === -1 ? "" : target.slice(keyEnd);
  if (tail.startsWith("@")) {
    const end = tail.indexOf(":");
    const atSign = end === -1 ? tail.slice(1) : tail.slice(1, end);
    if (!isEntity(atSign)) fail(ALL_USAGE);
    out.atSign = "@" + atSign;
    tail = end === -1 ? "" : tail.slice(end);
  }
  if (tail !== "") {
    if (tail.length < 2) fail(ALL_USAGE);
    out.value = tail.slice(1);
  }
  return out;
}

// ttl/ttb unsigned, ttr signed (-1 = cache forever), each within its limit.
function allTime(name: MetadataTimeField, value: string): number {
  const n = parseInteger(value, name === "ttr") ?? fail(ALL_USAGE);
  checkTimeLimit(name, n);
  return n;
}

/**
 * Builds a notify:all line.
 * @example buildNotifyAll({ verb: "notifyAll", recipients: ["@bob"], atKey: "k", atSign: "@alice" }) // "notify:all:@bob:k@alice"
 */
export function buildNotifyAll(cmd: CommandOf<"notifyAll">): string {
  let out = "notify:all:";
  if (cmd.operation) out += `${cmd.operation}:`;
  if (cmd.messageType) out += `messageType:${cmd.messageType}:`;
  if (cmd.ttl !== undefined) out += `ttl:${cmd.ttl}:`;
  if (cmd.ttb !== undefined) out += `ttb:${cmd.ttb}:`;
  if (cmd.ttr !== undefined) out += `ttr:${cmd.ttr}:`;
  if (cmd.ccd !== undefined) out += `ccd:${cmd.ccd}:`;
  out += `${cmd.recipients.join(",")}:${cmd.atKey}${cmd.atSign ?? ""}`;
  return cmd.value === undefined ? out : `${out}:${cmd.value}`;
}
