/**
 * Regexes from clients (scan, monitor, notify:list, sync, stats) run in linear time: the ECMAScript syntax
 * that Dart's RegExp and the reference SDKs use, compiled to a Thompson program (program.ts) and run as a
 * lazily built DFA (dfa.ts), or as a Pike VM where a DFA does not fit, instead of on the built-in
 * backtracking engine, on which one `scan (.*.*.*)*Z` took 5.8 s. Semantics are RegExp `test` / Dart
 * `hasMatch` without flags: found anywhere in the input, case-sensitive, `.` stops at line terminators.
 *
 * Why our own engine and not a library: re2js 2.10 (RE2 in JS, the one well-kept candidate) was measured in
 * Bun 1.4.5 at +9 to 11 MiB of RSS on first use (import 56 ms), a quarter of an idle atServer's 40 MiB, for
 * syntax no client sends; and RE2's syntax differs from RegExp's in small ways (`\s`, `.`, escapes). The
 * subset here is what RegExp accepts minus what needs backtracking; parse.ts refuses the rest by name.
 */
import { parseRegex, RegexSyntaxError } from "./parse.ts";
import { newDfa, runDfa } from "./dfa.ts";
import { compileProgram, hasBoundary, runPike } from "./program.ts";

export { RegexSyntaxError, REGEX_MAX_REPEAT, type RegexErrorKind } from "./parse.ts";

/** Longest pattern accepted, in UTF-16 code units (the longest line a client could send one on is larger). */
export const REGEX_MAX_SOURCE_CHARS = 1024;
/**
 * Most instructions a pattern may compile to (counted repeats expanded). A test costs at most input length ×
 * this many steps; real client regexes compile to under 100.
 */
export const REGEX_MAX_INSTRUCTIONS = 1024;

/** A compiled pattern. */
export interface LinearRegex {
  readonly source: string;
  /** Whether the pattern matches anywhere in `input`. */
  test(input: string): boolean;
  /** Steps all tests so far took (one thread over one input character): the measure for a work budget. */
  readonly steps: number;
}

/**
 * Compiles `source`; throws RegexSyntaxError (kind `invalid`, `unsupported` or `tooLarge`) for a pattern
 * it refuses.
 * @example compileLinearRegex(".*\\.wavi").test("phone.wavi@alice") // true
 */
export function compileLinearRegex(source: string): LinearRegex {
  if (source.length > REGEX_MAX_SOURCE_CHARS) {
    throw new RegexSyntaxError("tooLarge", `more than ${REGEX_MAX_SOURCE_CHARS} characters`);
  }
  const program = compileProgram(parseRegex(source), REGEX_MAX_INSTRUCTIONS);
  const dfa = hasBoundary(program) ? null : newDfa(program);
  return {
    source,
    test: dfa ? (input) => runDfa(dfa, input) : (input) => runPike(program, input),
    get steps() {
      return program.run.steps;
    },
  };
}
