/**
 * Turns one response line of an atServer (prompt already removed) into a typed result. Success is
 * `data:<payload>` (`data: <payload>` for stats); errors come in the three forms of ATPROTOCOL.md §2.5:
 * A `error:AT0015-<description>`, B `error:{"errorCode":"AT0015","errorDescription":"..."}`,
 * C `error:AT0026:<message>`.
 */

/** A parsed response: the payload after `data:`, or the error code and description. */
export type AtResponse = { ok: true; data: string } | { ok: false; code: string; description: string };

const CODE_RE = /^(AT\d{4})([-:])([\s\S]*)$/;

/**
 * Parses a response line; returns null for a line that is neither `data:` nor `error:` (a protocol violation
 * the caller treats as a broken connection).
 * @example parseResponse("error:AT0015-key not found") // { ok: false, code: "AT0015", description: "key not found" }
 */
export function parseResponse(line: string): AtResponse | null {
  if (line.startsWith("data:")) return { ok: true, data: line.slice(5) };
  if (!line.startsWith("error:")) return null;
  const body = line.slice(6);
  if (body.startsWith("{")) {
    try {
      const json = JSON.parse(body) as { errorCode?: unknown; errorDescription?: unknown };
      if (typeof json.errorCode === "string") {
        return { ok: false, code: json.errorCode, description: typeof json.errorDescription === "string" ? json.errorDescription : "" };
      }
    } catch {
      // not form B after all; fall through to the generic error below
    }
  }
  const m = CODE_RE.exec(body);
  if (m) return { ok: false, code: m[1]!, description: m[3]!.trim() };
  return { ok: false, code: "AT0014", description: body.trim() };
}

// A prompt is `@` or `@<atSign>@`; it precedes every response line after the first one.
const PROMPT_RE = /^@(?:[^\s:@]+@)?/;

/**
 * Removes the prompt the server appended to the previous response (and a trailing `\r`), leaving the payload.
 * `@data:x` and `@alice@data:x` both give `data:x`: a prompt body never contains `:`, a payload always does.
 */
export function stripPrompt(line: string): string {
  const text = line.endsWith("\r") ? line.slice(0, -1) : line;
  return text.replace(PROMPT_RE, "");
}
