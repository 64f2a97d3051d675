/**
 * `batch` (ATPROTOCOL.md §5.15): several commands in one JSON line, each answered in one JSON array.
 */
import type { BatchItem, CommandOf } from "./command.ts";
import { AtProtocolError } from "../wire/at_protocol_error.ts";
import { after, fail } from "./_syntax.ts";

const BATCH_USAGE = 'batch:[{"id":<n>,"command":"<command>"},...]';

/** Most commands one batch line may carry; Dart sync pushes at most a page (25-100 entries) at a time. */
export const BATCH_MAX_ITEMS = 1_000;

/**
 * Parses `batch:[{"id":1,"command":"update:..."},...]`.
 * @example parseBatch('batch:[{"id":1,"command":"delete:x@alice"}]')
 *   // { verb: "batch", items: [{ id: 1, command: "delete:x@alice" }] }
 */
export function parseBatch(line: string): CommandOf<"batch"> {
  const json = after(line, "batch:") ?? fail(BATCH_USAGE);
  let body: unknown;
  try {
    body = JSON.parse(json);
  } catch {
    throw new AtProtocolError("AT0003", `Invalid syntax. batch body is not valid JSON. Usage: ${BATCH_USAGE}`);
  }
  if (!Array.isArray(body)) fail(BATCH_USAGE);
  if (body.length > BATCH_MAX_ITEMS) throw new AtProtocolError("AT0022", `A batch holds at most ${BATCH_MAX_ITEMS} commands`);
  const items: BatchItem[] = body.map((item: unknown) => {
    const o = item as { id?: unknown; command?: unknown } | null;
    if (typeof o !== "object" || o === null || !Number.isSafeInteger(o.id) || typeof o.command !== "string") {
      fail(BATCH_USAGE);
    }
    return { id: o.id as number, command: o.command };
  });
  return { verb: "batch", items };
}

/**
 * Builds `batch:<json>`.
 * @example buildBatch({ verb: "batch", items: [{ id: 1, command: "noop:0" }] }) // 'batch:[{"id":1,"command":"noop:0"}]'
 */
export function buildBatch(cmd: CommandOf<"batch">): string {
  return `batch:${JSON.stringify(cmd.items.map((i) => ({ id: i.id, command: i.command })))}`;
}
