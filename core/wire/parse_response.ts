/**
 * Reading an atServer's responses (the inverse of responses.ts), for clients and for servers talking to other
 * servers.
 *
 * After the first bare `@`, every response arrives as `<payload>\n` followed by the prompt, and the prompt sits
 * at the start of the next line the reader sees. So a reader splits on `\n`, removes a leading prompt with
 * `stripPrompt`, and hands the rest to `parseResponse`. The `pol` answer (`@alice@`, no newline) is the one
 * response that is not a line; `parsePolResponse` reads it.
 */

/** One parsed response line. `payload` is everything after `data:` (for stats/notify:all it starts with a space). */
export type ParsedResponse =
  | { kind: "data"; payload: string }
  | { kind: "error"; code: string; description: string; form: "A" | "B" | "C" };

/**
 * Parses a response line without its prompt. Returns null for a line that is neither `data:` nor `error:`,
 * which a reader treats as a broken stream. An error line with no recognisable code gets code `AT0014`.
 * @example parseResponse("error:AT0015-key not found : x@alice does not exist")
 *   // { kind: "error", code: "AT0015", description: "key not found : x@alice does not exist", form: "A" }
 */
export function parseResponse(line: string): ParsedResponse | null {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (text.startsWith("data:")) return { kind: "data", payload: text.slice(5) };
  if (!text.startsWith("error:")) return null;
  const body = text.slice(6);
  if (body.startsWith("{")) {
    const json = parseJsonObject(body);
    if (json && typeof json.errorCode === "string") {
      const description = typeof json.errorDescription === "string" ? json.errorDescription : "";
      return { kind: "error", code: json.errorCode, description, form: "B" };
    }
  }
  const m = /^(AT\d{4})([-:])/.exec(body);
  if (!m) return { kind: "error", code: "AT0014", description: body, form: "A" };
  return { kind: "error", code: m[1] ?? "", description: body.slice(m[0].length), form: m[2] === "-" ? "A" : "C" };
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

// A prompt is `@` or `@<atSign>@`. Its body never holds `:`, while every payload starts with `data:`/`error:`.
const PROMPT = /^@(?:[^\s:@]+@)?/;

/**
 * Removes the prompt that precedes a response line (the server writes it after the previous payload).
 * @example stripPrompt("@alice@data:success") // "data:success"
 */
export function stripPrompt(line: string): string {
  return line.replace(PROMPT, "");
}

/**
 * Reads the answer to `pol`: `@<atSign>@` and nothing else. Returns the @sign, or null for anything else.
 * @example parsePolResponse("@alice@") // "@alice"
 */
export function parsePolResponse(text: string): string | null {
  const m = /^(@[^\s:@]+)@$/.exec(text.trim());
  return m ? (m[1] ?? null) : null;
}
