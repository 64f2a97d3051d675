/**
 * The fast path of linear_regex: a DFA built lazily from a Program, as RE2 does. A state is the set of
 * threads the Pike VM would hold at one input position; each state remembers where each character takes
 * it, so after warming up a test costs one array read per character however wide the pattern is (the
 * Pike VM steps every live thread: `.{0,250}Z` keeps 250 alive). Patterns with `\b`/`\B` stay on the Pike
 * VM, as the next character is not part of a state. `$` is kept in a state unresolved and decided once the
 * input ends. A pattern that needs more than DFA_MAX_STATES states goes back to the Pike VM for good (RE2
 * does the same), so memory stays bounded and time linear.
 */
import { addThread, consumes, nextGeneration, runPike, type Program } from "./program.ts";

/** DFA states per pattern (each holds a 128-entry ASCII table); beyond it the pattern runs on the Pike VM. */
export const DFA_MAX_STATES = 128;
/** Non-ASCII transitions remembered per state (key names are mostly ASCII; the rest are computed each time). */
const OTHER_TRANSITIONS_MAX = 64;

interface DState {
  /** Live CHAR instructions and unresolved `$` assertions, sorted. */
  pcs: Int32Array;
  matched: boolean;
  ascii: (DState | undefined)[];
  other: Map<number, DState>;
  /** Whether the input ending here is a match (computed on first need). */
  endMatch: boolean | undefined;
}

/** The DFA of one pattern. */
export interface Dfa {
  prog: Program;
  states: Map<string, DState>;
  start: DState | null;
  scratch: Int32Array;
  /** Set once the pattern needed more than DFA_MAX_STATES states. */
  full: boolean;
}

const MATCHED: DState = { pcs: new Int32Array(0), matched: true, ascii: [], other: new Map(), endMatch: true };

/** An empty DFA over `prog` (a program without `\b`/`\B`: see hasBoundary). */
export function newDfa(prog: Program): Dfa {
  return { prog, states: new Map(), start: null, scratch: new Int32Array(prog.op.length), full: false };
}

/** The state holding the `count` threads in scratch, or null when there is no room for another. */
function stateOf(dfa: Dfa, count: number): DState | null {
  const pcs = dfa.scratch.slice(0, count).sort();
  const key = pcs.join(",");
  let s = dfa.states.get(key);
  if (!s) {
    if (dfa.states.size >= DFA_MAX_STATES) {
      dfa.full = true;
      dfa.states.clear();
      dfa.start = null;
      return null;
    }
    s = { pcs, matched: false, ascii: new Array<DState | undefined>(128), other: new Map(), endMatch: undefined };
    dfa.states.set(key, s);
  }
  return s;
}

/** The state after `from` reads `c` (or the start state), plus the find-anywhere thread at the new position. */
function step(dfa: Dfa, from: DState | null, c: number): DState | null {
  const prog = dfa.prog;
  nextGeneration(prog.run);
  let count = 0;
  if (from) {
    prog.run.steps += from.pcs.length;
    for (const pc of from.pcs) {
      if (!consumes(prog, pc, c)) continue;
      count = addThread(prog, dfa.scratch, count, pc + 1, "", 1, true);
      if (count < 0) return MATCHED;
    }
  }
  if (from === null || !prog.anchored) {
    count = addThread(prog, dfa.scratch, count, 0, "", from === null ? 0 : 1, true);
    if (count < 0) return MATCHED;
  }
  return stateOf(dfa, count);
}

/** Whether a `$` the state holds is followed by a match once the input ends (its CHAR threads can only die). */
function endMatches(dfa: Dfa, s: DState, input: string): boolean {
  const prog = dfa.prog;
  nextGeneration(prog.run);
  for (const pc of s.pcs) if (addThread(prog, dfa.scratch, 0, pc, input, input.length) < 0) return true;
  return false;
}

/**
 * Whether the DFA's pattern matches anywhere in `input`.
 * @example runDfa(newDfa(compileProgram(parseRegex("a+$"), 100)), "baa") // true
 */
export function runDfa(dfa: Dfa, input: string): boolean {
  if (input.length === 0 || dfa.full) return runPike(dfa.prog, input);
  const start = (dfa.start ??= step(dfa, null, 0));
  if (start === null) return runPike(dfa.prog, input);
  let s = start;
  for (let pos = 0; pos < input.length; pos++) {
    if (s.matched) return true;
    if (s.pcs.length === 0 && dfa.prog.anchored) return false;
    const c = input.charCodeAt(pos);
    let next = c < 128 ? s.ascii[c] : s.other.get(c);
    if (next === undefined) {
      const computed = step(dfa, s, c);
      if (computed === null) return runPike(dfa.prog, input);
      next = computed;
      if (c < 128) s.ascii[c] = next;
      else if (s.other.size < OTHER_TRANSITIONS_MAX) s.other.set(c, next);
    }
    dfa.prog.run.steps++;
    s = next;
  }
  return s.matched || (s.endMatch ??= endMatches(dfa, s, input));
}
