/**
 * The syntax half of linear_regex: the ECMAScript pattern grammar (no flags, non-unicode mode, with the
 * Annex B leniencies the built-in engine applies: a lone `]`, `{` or `}` is a literal) parsed into a small
 * tree. What cannot run in linear time (backreferences, lookaround) and the rarely used escapes whose
 * Annex B meaning is surprising (`\c`, `\p`, `\k`, `\u{…}`, `\a`-style letter escapes) are refused as
 * unsupported instead of guessed, so anything accepted means exactly what it means to RegExp and Dart.
 */
import { charSet, complement, DIGIT, DOT, SPACE, WORD, type CharSet } from "./char_set.ts";

/** A parsed pattern. `set` consumes one UTF-16 code unit; the rest consume none or combine. */
export type RegexNode =
  | { kind: "set"; set: CharSet }
  | { kind: "seq"; items: RegexNode[] }
  | { kind: "alt"; items: RegexNode[] }
  | { kind: "repeat"; node: RegexNode; min: number; max: number }
  | { kind: "assert"; what: "start" | "end" | "boundary" | "notBoundary" };

/** Why a pattern was refused: `invalid` (RegExp refuses it too), `unsupported` (valid, not linear-time here), `tooLarge`. */
export type RegexErrorKind = "invalid" | "unsupported" | "tooLarge";

/** A refused pattern, with the offset in the source of the construct at fault (-1: the pattern as a whole). */
export class RegexSyntaxError extends Error {
  constructor(
    readonly kind: RegexErrorKind,
    readonly reason: string,
    readonly position = -1,
  ) {
    super(position >= 0 ? `${reason} at offset ${position}` : reason);
  }
}

/** Largest count a `{n,m}` quantifier may name (RE2's limit too); the expanded program is bounded separately. */
export const REGEX_MAX_REPEAT = 1000;

interface Parser {
  src: string;
  pos: number;
  /** Capture group names seen so far. */
  names: Set<string>;
}

const CLASS_ESCAPES: Record<string, CharSet> = {
  d: DIGIT,
  D: complement(DIGIT),
  w: WORD,
  W: complement(WORD),
  s: SPACE,
  S: complement(SPACE),
};
const CONTROL_ESCAPES: Record<string, number> = { t: 9, n: 10, v: 11, f: 12, r: 13 };
const QUANTIFIER_START = new Set(["*", "+", "?"]);

function fail(p: Parser, kind: RegexErrorKind, reason: string, at = p.pos): never {
  throw new RegexSyntaxError(kind, reason, at);
}

/**
 * Parses a pattern as RegExp would (no flags).
 * @example parseRegex("a|b") // { kind: "alt", items: [set a, set b] }
 */
export function parseRegex(src: string): RegexNode {
  const p: Parser = { src, pos: 0, names: new Set() };
  const node = parseAlternation(p);
  if (p.pos < src.length) fail(p, "invalid", "unmatched ')'");
  return node;
}

function parseAlternation(p: Parser): RegexNode {
  const items = [parseSequence(p)];
  while (p.src[p.pos] === "|") {
    p.pos++;
    items.push(parseSequence(p));
  }
  return items.length === 1 ? items[0]! : { kind: "alt", items };
}

function parseSequence(p: Parser): RegexNode {
  const items: RegexNode[] = [];
  while (p.pos < p.src.length && p.src[p.pos] !== "|" && p.src[p.pos] !== ")") {
    const bare = p.src[p.pos] !== "("; // a group around an assertion may be repeated, a bare assertion not
    const atom = parseAtom(p);
    const q = readQuantifier(p);
    if (q === null) items.push(atom);
    else if (atom.kind === "assert" && bare) fail(p, "invalid", "nothing to repeat");
    else items.push({ kind: "repeat", node: atom, min: q.min, max: q.max });
  }
  return items.length === 1 ? items[0]! : { kind: "seq", items };
}

/** `*`, `+`, `?` or `{n}`, `{n,}`, `{n,m}` at the cursor (each optionally lazy: same yes/no answer), or null. */
function readQuantifier(p: Parser): { min: number; max: number } | null {
  const c = p.src[p.pos];
  let q: { min: number; max: number } | null = null;
  if (c === "*") q = { min: 0, max: Infinity };
  else if (c === "+") q = { min: 1, max: Infinity };
  else if (c === "?") q = { min: 0, max: 1 };
  if (q) p.pos++;
  else if (c === "{") q = readBraces(p);
  if (q && p.src[p.pos] === "?") p.pos++;
  return q;
}

const BRACES_RE = /^\{(\d+)(,(\d*))?\}/;

function readBraces(p: Parser): { min: number; max: number } | null {
  const m = BRACES_RE.exec(p.src.slice(p.pos));
  if (!m) return null; // Annex B: a `{` that starts no quantifier is a literal
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
  if (max < min) fail(p, "invalid", "numbers out of order in {} quantifier");
  if (min > REGEX_MAX_REPEAT || (max !== Infinity && max > REGEX_MAX_REPEAT)) {
    fail(p, "tooLarge", `a repeat count above ${REGEX_MAX_REPEAT}`);
  }
  p.pos += m[0].length;
  return { min, max };
}

function parseAtom(p: Parser): RegexNode {
  const c = p.src[p.pos]!;
  if (c === "(") return parseGroup(p);
  if (c === "[") return { kind: "set", set: parseClass(p) };
  if (QUANTIFIER_START.has(c) || (c === "{" && BRACES_RE.test(p.src.slice(p.pos)))) fail(p, "invalid", "nothing to repeat");
  p.pos++;
  if (c === ".") return { kind: "set", set: DOT };
  if (c === "^") return { kind: "assert", what: "start" };
  if (c === "$") return { kind: "assert", what: "end" };
  if (c !== "\\") return literal(c.charCodeAt(0));
  const e = p.src[p.pos];
  if (e === "b" || e === "B") {
    p.pos++;
    return { kind: "assert", what: e === "b" ? "boundary" : "notBoundary" };
  }
  const esc = readEscape(p, false);
  return typeof esc === "number" ? literal(esc) : { kind: "set", set: esc };
}

function literal(code: number): RegexNode {
  return { kind: "set", set: charSet([[code, code]]) };
}

function parseGroup(p: Parser): RegexNode {
  const start = p.pos;
  p.pos++; // (
  if (p.src[p.pos] === "?") {
    const head = p.src.slice(p.pos, p.pos + 3);
    if (head.startsWith("?:")) p.pos += 2;
    else if (head.startsWith("?=") || head.startsWith("?!") || head === "?<=" || head === "?<!") {
      fail(p, "unsupported", "lookaround", start);
    } else if (head.startsWith("?<")) skipGroupName(p);
    else fail(p, "invalid", "invalid group", start);
  }
  const inner = parseAlternation(p);
  if (p.src[p.pos] !== ")") fail(p, "invalid", "unterminated group");
  p.pos++;
  return inner;
}

const GROUP_NAME_RE = /^\?<[A-Za-z_$][\w$]*>/;

/** `?<name>`; a name used twice is refused (RegExp allows it only in different alternatives). */
function skipGroupName(p: Parser): void {
  const m = GROUP_NAME_RE.exec(p.src.slice(p.pos));
  if (!m) fail(p, "invalid", "invalid capture group name", p.pos - 1);
  if (p.names.has(m[0])) fail(p, "unsupported", "a repeated capture group name", p.pos - 1);
  p.names.add(m[0]);
  p.pos += m[0].length;
}

/** `[...]` / `[^...]`; a range next to a class escape (`[\w-z]`) is Annex B's literal `-`. */
function parseClass(p: Parser): CharSet {
  p.pos++; // [
  const negate = p.src[p.pos] === "^";
  if (negate) p.pos++;
  const ranges: (readonly [number, number])[] = [];
  for (;;) {
    if (p.pos >= p.src.length) fail(p, "invalid", "missing ]");
    if (p.src[p.pos] === "]") break;
    const lo = readClassAtom(p);
    if (p.src[p.pos] === "-" && p.pos + 1 < p.src.length && p.src[p.pos + 1] !== "]") {
      p.pos++;
      const hi = readClassAtom(p);
      if (typeof lo === "number" && typeof hi === "number") {
        if (hi < lo) fail(p, "invalid", "range out of order in character class");
        ranges.push([lo, hi]);
        continue;
      }
      ranges.push([45, 45]); // "-"
      addAtom(ranges, hi);
    }
    addAtom(ranges, lo);
  }
  p.pos++; // ]
  const set = charSet(ranges);
  return negate ? complement(set) : set;
}

function addAtom(ranges: (readonly [number, number])[], atom: number | CharSet): void {
  if (typeof atom === "number") ranges.push([atom, atom]);
  else ranges.push(...atom.ranges);
}

function readClassAtom(p: Parser): number | CharSet {
  const c = p.src[p.pos]!;
  p.pos++;
  if (c !== "\\") return c.charCodeAt(0);
  if (p.src[p.pos] === "b") {
    p.pos++;
    return 8; // backspace inside a class
  }
  if (p.src[p.pos] === "-") {
    p.pos++;
    return 45;
  }
  return readEscape(p, true);
}

const HEX4_RE = /^[0-9A-Fa-f]{4}/;
const HEX2_RE = /^[0-9A-Fa-f]{2}/;

/** The escape after a `\` (already consumed): a code unit, or a class escape's set. */
function readEscape(p: Parser, inClass: boolean): number | CharSet {
  const start = p.pos - 1; // the backslash
  if (p.pos >= p.src.length) fail(p, "invalid", "\\ at end of pattern", start);
  const e = p.src[p.pos]!;
  p.pos++;
  const set = CLASS_ESCAPES[e];
  if (set) return set;
  const control = CONTROL_ESCAPES[e];
  if (control !== undefined) return control;
  if (e === "0" && !/[0-9]/.test(p.src[p.pos] ?? "")) return 0;
  if (e === "x" || e === "u") {
    const m = (e === "x" ? HEX2_RE : HEX4_RE).exec(p.src.slice(p.pos));
    if (!m) fail(p, "unsupported", `\\${e} without ${e === "x" ? 2 : 4} hex digits`, start);
    p.pos += m[0].length;
    return parseInt(m[0], 16);
  }
  if (/[0-9]/.test(e)) fail(p, "unsupported", inClass ? "octal escape" : "backreference", start);
  if (/[A-Za-z]/.test(e)) fail(p, "unsupported", `the escape \\${e}`, start);
  return e.charCodeAt(0); // identity escape of punctuation: \. \- \@ \/ ...
}
