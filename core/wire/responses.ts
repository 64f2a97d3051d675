/**
 * Exact response bytes of an atServer (ATPROTOCOL.md §2.2, §2.4, §2.5).
 *
 * Flow: on connect the server writes the bare prompt `@` on its own; every later response is
 * `<payload>\n<prompt>` in ONE write, because at_c discards whatever follows the first `\n` of a read and
 * Dart only sees a response as complete once `\n@` arrives. Everything here returns that whole string.
 */
import { ERROR_CODES } from "./error_codes.ts";
import { AtProtocolError } from "./at_protocol_error.ts";
import { JSON_ERRORS_AFTER_CLIENT_VERSION } from "./limits.ts";

/** Who the connection is authenticated as; decides the prompt. */
export type AuthState =
  | { readonly auth: "none" }
  | { readonly auth: "owner"; readonly atSign: string }
  | { readonly auth: "pol"; readonly atSign: string };

/** The unauthenticated state, shared because it has no fields. */
export const UNAUTHENTICATED: AuthState = { auth: "none" };

/**
 * The prompt appended after a success response: `@`, or `<atSign>@` once authenticated (owner or pol).
 * @example prompt({ auth: "owner", atSign: "@alice" }) // "@alice@"
 */
export function prompt(state: AuthState): string {
  return state.auth === "none" ? "@" : `${state.atSign}@`;
}

/**
 * The prompt after an error: the owner keeps `@alice@`; unauthenticated and pol connections get `@`.
 * @example errorPrompt({ auth: "pol", atSign: "@bob" }) // "@"
 */
export function errorPrompt(state: AuthState): string {
  return state.auth === "owner" ? `${state.atSign}@` : "@";
}

/**
 * A success response: `data:<payload>\n<prompt>`. A null result is the literal `data:null`.
 * The payload is written verbatim; callers pass single-line text (JSON.stringify never emits raw newlines).
 * @example dataResponse("success", "@alice@") // "data:success\n@alice@"
 */
export function dataResponse(payload: string | null, promptText: string): string {
  return `data:${payload ?? "null"}\n${promptText}`;
}

/**
 * The spaced success form used by `stats` and `notify:all`: `data: <payload>\n<prompt>`.
 * @example dataSpaceResponse('[{"id":"3","name":"lastCommitID","value":"7"}]', "@alice@")
 */
export function dataSpaceResponse(payload: string, promptText: string): string {
  return `data: ${payload}\n${promptText}`;
}

/**
 * The answer to a successful `pol`: `<atSign>@` with no `data:`, no newline and no further prompt.
 * @example polResponse("@alice") // "@alice@"
 */
export function polResponse(atSign: string): string {
  return `${atSign}@`;
}

/**
 * What the reference writes to a connection refused because the inbound pool is full (then it closes):
 * form A without prompt.
 * @example inboundLimitResponse() // "error:AT0012-Inbound connection limit exceeded\n"
 */
export function inboundLimitResponse(): string {
  return `error:AT0012-${ERROR_CODES.AT0012.description}\n`;
}

/**
 * Whether a clientConfig `version` asks for JSON error bodies (form B): strictly above 3.0.37.
 * Unparseable or missing versions get form A, as a client that sent no clientConfig.
 * @example wantsJsonErrors("3.0.38") // true
 */
export function wantsJsonErrors(clientVersion: string | undefined): boolean {
  if (clientVersion === undefined) return false;
  const v = parseVersion(clientVersion);
  const floor = parseVersion(JSON_ERRORS_AFTER_CLIENT_VERSION);
  if (!v || !floor) return false;
  for (let i = 0; i < 3; i++) {
    const a = v.core[i] ?? 0;
    const b = floor.core[i] ?? 0;
    if (a !== b) return a > b;
  }
  // Same x.y.z: a pre-release (3.0.37-beta) sorts below the release, so it is not "greater".
  return false;
}

function parseVersion(text: string): { core: number[] } | null {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(text.trim());
  if (!m) return null;
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])] };
}

/**
 * The description text of an exception-path error (§2.5): on an owner-authenticated connection
 * `<table description> : <message>`, otherwise the Dart exception string `Exception: <message>`.
 * @example errorDescription(new AtProtocolError("AT0015", "x@alice does not exist"), true)
 *   // "key not found : x@alice does not exist"
 */
export function errorDescription(err: AtProtocolError, ownerAuthenticated: boolean): string {
  return ownerAuthenticated ? `${ERROR_CODES[err.code].description} : ${err.message}` : `Exception: ${err.message}`;
}

/** Connection facts that decide the error form. */
export interface ErrorContext {
  state: AuthState;
  /** The `version` the client sent in `from:...:clientConfig:{...}`, if any. */
  clientVersion?: string;
}

/**
 * The full error response for `err` on a connection: form C for handler-level errors, else form B (JSON)
 * for clients announcing a version above 3.0.37, else form A; followed by the error prompt.
 * @example
 * ```ts
 * errorResponse(new AtProtocolError("AT0401", "Command cannot be executed without auth"), { state: UNAUTHENTICATED })
 * // "error:AT0401-Exception: Command cannot be executed without auth\n@"
 * ```
 */
export function errorResponse(err: AtProtocolError, ctx: ErrorContext): string {
  const p = errorPrompt(ctx.state);
  if (err.form === "handler") return `error:${err.code}:${oneLine(err.message)}\n${p}`;
  const description = oneLine(errorDescription(err, ctx.state.auth === "owner"));
  if (wantsJsonErrors(ctx.clientVersion)) {
    return `error:${JSON.stringify({ errorCode: err.code, errorDescription: description })}\n${p}`;
  }
  return `error:${err.code}-${description}\n${p}`;
}

// Messages may quote client input, which can hold a stray `\r`; a line break would split the frame.
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}
