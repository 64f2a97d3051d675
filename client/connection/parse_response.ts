/**
 * The client's view of one response line: core/wire reads the `data:` and the three `error:` forms; this
 * adapts its result to the `{ ok, data }` / `{ ok, code, description }` shape the SDK hands around.
 */
import { parseResponse as parseWire, stripPrompt } from "../../core/wire/index.ts";

export { stripPrompt };

/** A parsed response: the payload after `data:`, or the error code and description. */
export type AtResponse = { ok: true; data: string } | { ok: false; code: string; description: string };

/**
 * Parses a response line (prompt already removed); null for a line that is neither `data:` nor `error:`
 * (a protocol violation the caller treats as a broken connection).
 * @example parseResponse("error:AT0015-key not found") // { ok: false, code: "AT0015", description: "key not found" }
 */
export function parseResponse(line: string): AtResponse | null {
  const r = parseWire(line);
  if (!r) return null;
  return r.kind === "data" ? { ok: true, data: r.payload } : { ok: false, code: r.code, description: r.description.trim() };
}
