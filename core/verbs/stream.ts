/**
 * `stream` (ATPROTOCOL.md §5.16): legacy file streaming, parsed so it can be answered precisely.
 */
import type { CommandOf } from "./command.ts";
import { fail, parseInteger } from "./_syntax.ts";

const STREAM_USAGE = "stream:init|send|receive|done|resume[@<receiver>][ namespace:<ns>][ startByte:<n>] <streamId> [<fileName> <length>]";

const HEAD = /^stream:(init|send|receive|done|resume)?(?:@([^@:\s]+))?(?: ?namespace:([\w-]+))?(?: ?startByte:(\d+))?/i;

/**
 * Parses a stream line, e.g. `stream:init@bob <id> <fileName> <length>` or `stream:done <id>`.
 * @example parseStream("stream:receive s1") // { verb: "stream", operation: "receive", streamId: "s1" }
 */
export function parseStream(line: string): CommandOf<"stream"> {
  const head = HEAD.exec(line);
  if (!head) fail(STREAM_USAGE);
  const cmd: CommandOf<"stream"> = { verb: "stream" };
  if (head[1]) cmd.operation = head[1].toLowerCase() as NonNullable<CommandOf<"stream">["operation"]>;
  if (head[2]) cmd.receiver = "@" + head[2];
  if (head[3]) cmd.namespace = head[3];
  if (head[4]) cmd.startByte = parseInteger(head[4], false) ?? fail(STREAM_USAGE);
  const tail = line.slice(head[0].length);
  if (tail === "") return cmd;
  // ` <streamId>` then optionally ` <fileName> <length>`; the file name may hold spaces, the length may not.
  const m = /^ ([\w-]+)(?: (.+) (\d+))?$/s.exec(tail);
  if (!m) fail(STREAM_USAGE);
  cmd.streamId = m[1] ?? "";
  if (m[2] !== undefined) {
    cmd.fileName = m[2];
    cmd.length = parseInteger(m[3] ?? "", false) ?? fail(STREAM_USAGE);
  }
  return cmd;
}

/**
 * Builds a stream line.
 * @example buildStream({ verb: "stream", operation: "done", streamId: "s1" }) // "stream:done s1"
 */
export function buildStream(cmd: CommandOf<"stream">): string {
  let out = `stream:${cmd.operation ?? ""}`;
  if (cmd.receiver) out += cmd.receiver;
  if (cmd.namespace) out += ` namespace:${cmd.namespace}`;
  if (cmd.startByte !== undefined) out += ` startByte:${cmd.startByte}`;
  if (cmd.streamId !== undefined) out += ` ${cmd.streamId}`;
  if (cmd.fileName !== undefined && cmd.length !== undefined) out += ` ${cmd.fileName} ${cmd.length}`;
  return out;
}
