/**
 * `keys` (ATPROTOCOL.md §8.5): per-enrollment key storage for APKAM connections.
 *
 * Deprecated, as the reference's grammar marks it ("being deprecated"): enrollments carry their keys now. Kept
 * so that clients that still send it keep working.
 */
import type { CommandOf } from "./command.ts";
import { fail } from "./_syntax.ts";

const KEYS_USAGE =
  "keys:put|get|delete[:public|private|self][:namespace:<ns>][:appName:<a>][:deviceName:<d>][:keyType:<t>][:encryptionKeyName:<n>][:keyName:<name>][ <value>]";

// The reference grammar, fields in fixed order. The `s` flag keeps `.*` linear on lines with odd breaks.
const KEYS =
  /^keys:(put|get|delete):?(?:(public|private|self):?)?(?:namespace:(\w+):?)?(?:appName:(\w+):?)?(?:deviceName:(\w+):?)?(?:keyType:([\w-]+):?)?(?:encryptionKeyName:([\w-]+):?)?(?:keyName:(\S+) ?)?(.*)$/is;

/**
 * Parses a keys line.
 * @example parseKeys("keys:get:keyName:e1.default_enc_private_key.__manage@alice")
 *   // { verb: "keys", operation: "get", keyName: "e1.default_enc_private_key.__manage@alice" }
 */
export function parseKeys(line: string): CommandOf<"keys"> {
  const m = KEYS.exec(line);
  if (!m) fail(KEYS_USAGE);
  const cmd: CommandOf<"keys"> = { verb: "keys", operation: (m[1] ?? "").toLowerCase() as "put" | "get" | "delete" };
  if (m[2]) cmd.visibility = m[2].toLowerCase() as "public" | "private" | "self";
  if (m[3]) cmd.namespace = m[3];
  if (m[4]) cmd.appName = m[4];
  if (m[5]) cmd.deviceName = m[5];
  if (m[6]) cmd.keyType = m[6];
  if (m[7]) cmd.encryptionKeyName = m[7];
  if (m[8]) cmd.keyName = m[8];
  if (m[9]) cmd.keyValue = m[9];
  return cmd;
}

/**
 * Builds a keys line.
 * @example buildKeys({ verb: "keys", operation: "put", visibility: "public", namespace: "wavi", keyName: "k", keyValue: "v" })
 *   // "keys:put:public:namespace:wavi:keyName:k v"
 */
export function buildKeys(cmd: CommandOf<"keys">): string {
  let out = `keys:${cmd.operation}`;
  if (cmd.visibility) out += `:${cmd.visibility}`;
  if (cmd.namespace) out += `:namespace:${cmd.namespace}`;
  if (cmd.appName) out += `:appName:${cmd.appName}`;
  if (cmd.deviceName) out += `:deviceName:${cmd.deviceName}`;
  if (cmd.keyType) out += `:keyType:${cmd.keyType}`;
  if (cmd.encryptionKeyName) out += `:encryptionKeyName:${cmd.encryptionKeyName}`;
  if (cmd.keyName) out += `:keyName:${cmd.keyName}`;
  if (cmd.keyValue) out += cmd.keyName ? ` ${cmd.keyValue}` : `:${cmd.keyValue}`;
  return out;
}
