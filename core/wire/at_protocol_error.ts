/**
 * The one error type that verb parsers and server handlers throw for conditions the client should see.
 */
import { ERROR_CODES, type AtErrorCode } from "./error_codes.ts";

/**
 * How the error is written (ATPROTOCOL.md §2.5):
 * - `exception`: the global-handler path; form A (`error:CODE-desc`) or B (JSON) by client version.
 * - `handler`: written by the verb handler itself, form C (`error:CODE:message`), e.g. APKAM states.
 */
export type ErrorForm = "exception" | "handler";

/** Options of an AtProtocolError beyond code and message. */
export interface AtProtocolErrorOptions {
  /** Defaults to `exception`. */
  form?: ErrorForm;
  /** Overrides the table's "connection closes" flag (AT0011 is used both ways by the reference). */
  closes?: boolean;
  cause?: unknown;
}

/**
 * An atProtocol error: a code from the table, a message, the wire form and whether the connection closes.
 *
 * @example
 * ```ts
 * throw new AtProtocolError("AT0015", "@alice:phone@bob does not exist in keystore");
 * throw new AtProtocolError("AT0026", "enrollment_id: 42 is pending", { form: "handler" });
 * ```
 */
export class AtProtocolError extends Error {
  override name = "AtProtocolError";
  readonly code: AtErrorCode;
  readonly form: ErrorForm;
  readonly closes: boolean;

  constructor(code: AtErrorCode, message: string, opts: AtProtocolErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.form = opts.form ?? "exception";
    this.closes = opts.closes ?? ERROR_CODES[code].closes;
  }
}

/**
 * The AT0003 error for a line that matched a verb but not its grammar; `usage` is the verb's usage hint.
 * @example throw invalidSyntax("update:[meta:]<key>@<atSign> <value>")
 */
export function invalidSyntax(usage: string): AtProtocolError {
  return new AtProtocolError("AT0003", `Invalid syntax. Usage: ${usage}`);
}

/**
 * The AT0003 error for a line that names no known verb.
 * @example throw invalidCommand()
 */
export function invalidCommand(): AtProtocolError {
  return new AtProtocolError("AT0003", "invalid command");
}
