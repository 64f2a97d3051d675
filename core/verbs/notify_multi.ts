/**
 * `notify:multi` (at_commons 5.x, at_server 3.16): one key notification, one value, to several @signs.
 */
import type { CommandOf, MetadataPatch } from "./command.ts";
import { after, eq, fail, isEntity, isParamName, parseInteger, splitColons } from "./_syntax.ts";
import { applyMetadataPair, formatMetadataPatch } from "./metadata_patch.ts";
import { AtProtocolError } from "../wire/at_protocol_error.ts";

const USAGE = "notify:multi[:update|delete][:ttln:<ms>][<metadata>]:@<to>[,@<to>...]:<key>@<owner>[:<value>]";

/**
 * Metadata a notify:multi refuses, by name (the reference's list): what describes one recipient's copy of a
 * value, which no single value can be right for, what the server does not deliver, and ttr/ccd, which would
 * make each recipient keep a cached copy.
 */
export const NOTIFY_MULTI_REFUSED: readonly (keyof MetadataPatch)[] = [
  "ttr", "ccd", "sharedKeyEnc", "pubKeyCS", "pubKeyHash", "hashingAlgo", "skeEncKeyName", "skeEncAlgo", "isBinary",
  "encoding", "sharedKeyStatus", "dataSignature",
];

const RECIPIENT = /^@[^\s:@,]+$/;

/**
 * Parses a notify:multi line: options and metadata (reference names only; anything else is AT0003), then the
 * recipients, each with its `@`, then `key@owner` (owner required), then an optional `:value` to the line's end.
 * @example parseNotifyMulti("notify:multi:isEncrypted:true:@bob,@carol:msg.app@alice:CIPHER")
 *   // { verb: "notifyMulti", metadata: { isEncrypted: true }, recipients: ["@bob", "@carol"], atKey: "msg.app", atSign: "@alice", value: "CIPHER" }
 */
export function parseNotifyMulti(line: string): CommandOf<"notifyMulti"> {
  const tokens = splitColons(after(line, "notify:multi:") ?? fail(USAGE));
  const cmd: Omit<CommandOf<"notifyMulti">, "recipients" | "atKey" | "atSign"> = { verb: "notifyMulti", metadata: {} };
  let i = 0;
  if (eq(tokens[0], "update") || eq(tokens[0], "delete")) cmd.operation = (tokens[i++] ?? "").toLowerCase() as "update" | "delete";
  for (; i < tokens.length && !(tokens[i] ?? "").startsWith("@"); i += 2) readOption(cmd, tokens[i] ?? "", tokens[i + 1]);
  const recipients = (tokens[i] ?? fail(USAGE)).split(",");
  if (!recipients.every((r) => RECIPIENT.test(r))) fail(USAGE);
  const target = tokens[i + 1] ?? fail(USAGE);
  const at = target.indexOf("@");
  const atKey = target.slice(0, at);
  const owner = target.slice(at + 1);
  if (at === -1 || !isEntity(atKey) || !isEntity(owner)) fail(USAGE);
  const value = tokens.slice(i + 2).join(":");
  return { ...cmd, recipients, atKey, atSign: `@${owner}`, ...(i + 2 < tokens.length && value !== "" ? { value } : {}) };
}

function readOption(cmd: Omit<CommandOf<"notifyMulti">, "recipients" | "atKey" | "atSign">, name: string, value: string | undefined): void {
  if (value === undefined || !isParamName(name)) fail(USAGE);
  if (eq(name, "ttln") && cmd.ttln === undefined) {
    cmd.ttln = parseInteger(value, false) ?? fail(USAGE);
    return;
  }
  const refused = NOTIFY_MULTI_REFUSED.find((f) => eq(name, f));
  if (refused) throw new AtProtocolError("AT0003", `Invalid syntax. notify:multi does not take ${refused}`);
  if (!applyMetadataPair(cmd.metadata, name, value, USAGE)) fail(USAGE);
}

/**
 * Builds a notify:multi line in the order at_commons writes it.
 * @example buildNotifyMulti({ verb: "notifyMulti", metadata: {}, recipients: ["@bob"], atKey: "k", atSign: "@a" })
 *   // "notify:multi:@bob:k@a"
 */
export function buildNotifyMulti(cmd: CommandOf<"notifyMulti">): string {
  let out = "notify:multi";
  if (cmd.operation) out += `:${cmd.operation}`;
  if (cmd.ttln !== undefined) out += `:ttln:${cmd.ttln}`;
  out += `${formatMetadataPatch(cmd.metadata)}:${cmd.recipients.join(",")}:${cmd.atKey}${cmd.atSign}`;
  return cmd.value === undefined ? out : `${out}:${cmd.value}`;
}
