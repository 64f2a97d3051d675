/**
 * The matching half of linear_regex: a parsed pattern compiled to a Thompson program and run as a Pike VM
 * without captures. Every position of the input is visited once and every instruction at most once per
 * position, so a test costs at most input length × program size steps, whatever the pattern, where the
 * built-in backtracking engine can take exponential time (`(.*.*.*)*Z`, `(a+)+$`).
 */
import { inSet, WORD, type CharSet } from "./char_set.ts";
import { RegexSyntaxError, type RegexNode } from "./parse.ts";

const CHAR = 0;
const SPLIT = 1;
const JMP = 2;
const ASSERT = 3;
const MATCH = 4;

const ASSERTS = { start: 0, end: 1, boundary: 2, notBoundary: 3 } as const;

/** A compiled pattern: parallel instruction arrays, plus the reusable lists of one run. */
export interface Program {
  op: Uint8Array;
  /** SPLIT: first branch; JMP: target; ASSERT: which assertion. */
  a: Int32Array;
  /** SPLIT: second branch. */
  b: Int32Array;
  sets: (CharSet | null)[];
  /** The pattern can only match at offset 0 (it begins with `^`), so a run ends when no thread is left. */
  anchored: boolean;
  run: RunState;
}

/** The scratch a run reuses (one run at a time: tests are synchronous). */
export interface RunState {
  lists: [Int32Array, Int32Array];
  marks: Uint32Array;
  stack: Int32Array;
  gen: number;
  /** Threads stepped over input so far, over all runs (what a caller's work budget counts). */
  steps: number;
}

interface Builder {
  op: number[];
  a: number[];
  b: number[];
  sets: (CharSet | null)[];
  max: number;
}

function emit(bd: Builder, op: number, a = 0, b = 0, set: CharSet | null = null): number {
  if (bd.op.length >= bd.max) throw new RegexSyntaxError("tooLarge", `more than ${bd.max} instructions once compiled`);
  bd.op.push(op);
  bd.a.push(a);
  bd.b.push(b);
  bd.sets.push(set);
  return bd.op.length - 1;
}

function emitNode(bd: Builder, node: RegexNode): void {
  switch (node.kind) {
    case "set":
      emit(bd, CHAR, 0, 0, node.set);
      return;
    case "assert":
      emit(bd, ASSERT, ASSERTS[node.what]);
      return;
    case "seq":
      for (const item of node.items) emitNode(bd, item);
      return;
    case "alt":
      return emitAlternation(bd, node.items);
    case "repeat":
      return emitRepeat(bd, node.node, node.min, node.max);
  }
}

function emitAlternation(bd: Builder, items: RegexNode[]): void {
  const jumps: number[] = [];
  items.forEach((item, i) => {
    if (i === items.length - 1) return emitNode(bd, item);
    const split = emit(bd, SPLIT, bd.op.length + 1);
    emitNode(bd, item);
    jumps.push(emit(bd, JMP));
    bd.b[split] = bd.op.length;
  });
  for (const j of jumps) bd.a[j] = bd.op.length;
}

function emitRepeat(bd: Builder, node: RegexNode, min: number, max: number): void {
  for (let i = 0; i < min; i++) emitNode(bd, node);
  if (max === Infinity) {
    const loop = emit(bd, SPLIT, bd.op.length + 1);
    emitNode(bd, node);
    emit(bd, JMP, loop);
    bd.b[loop] = bd.op.length;
    return;
  }
  const splits: number[] = [];
  for (let i = min; i < max; i++) {
    splits.push(emit(bd, SPLIT, bd.op.length + 1));
    emitNode(bd, node);
  }
  for (const s of splits) bd.b[s] = bd.op.length;
}

function startsAnchored(node: RegexNode): boolean {
  if (node.kind === "assert") return node.what === "start";
  return node.kind === "seq" && node.items[0] !== undefined && startsAnchored(node.items[0]);
}

/**
 * Compiles a parsed pattern; more than `maxInstructions` is a `tooLarge` RegexSyntaxError.
 * @example runPike(compileProgram(parseRegex("b+"), 100), "abba") // true
 */
export function compileProgram(node: RegexNode, maxInstructions: number): Program {
  const bd: Builder = { op: [], a: [], b: [], sets: [], max: maxInstructions };
  emitNode(bd, node);
  emit(bd, MATCH);
  const n = bd.op.length;
  return {
    op: Uint8Array.from(bd.op),
    a: Int32Array.from(bd.a),
    b: Int32Array.from(bd.b),
    sets: bd.sets,
    anchored: startsAnchored(node),
    run: { lists: [new Int32Array(n), new Int32Array(n)], marks: new Uint32Array(n), stack: new Int32Array(n), gen: 0, steps: 0 },
  };
}

function isWordAt(input: string, i: number): boolean {
  return i >= 0 && i < input.length && inSet(WORD, input.charCodeAt(i));
}

function assertionHolds(what: number, input: string, pos: number): boolean {
  if (what === ASSERTS.start) return pos === 0;
  if (what === ASSERTS.end) return pos === input.length;
  const boundary = isWordAt(input, pos - 1) !== isWordAt(input, pos);
  return what === ASSERTS.boundary ? boundary : !boundary;
}

/**
 * Adds the thread at `pc` and everything it reaches without consuming input to `list` (from `count`);
 * returns the new count, or -1 when a MATCH is reached. With `parkEnd` (the DFA's mode, which does not know
 * where the input ends) a `$` is kept in the list instead of being decided.
 */
export function addThread(prog: Program, list: Int32Array, count: number, pc: number, input: string, pos: number, parkEnd = false): number {
  const { marks, stack, gen } = prog.run;
  if (marks[pc] === gen) return count;
  marks[pc] = gen;
  let top = 0;
  stack[top++] = pc;
  while (top > 0) {
    const at = stack[--top]!;
    const op = prog.op[at];
    if (op === MATCH) return -1;
    if (op === CHAR || (op === ASSERT && parkEnd && prog.a[at] === ASSERTS.end)) {
      list[count++] = at;
      continue;
    }
    const next = op === JMP ? prog.a[at]! : op === SPLIT ? prog.b[at]! : assertionHolds(prog.a[at]!, input, pos) ? at + 1 : -1;
    if (next >= 0 && marks[next] !== gen) {
      marks[next] = gen;
      stack[top++] = next;
    }
    // SPLIT: the first branch goes on the stack last, so it is expanded first.
    if (op === SPLIT && marks[prog.a[at]!] !== gen) {
      marks[prog.a[at]!] = gen;
      stack[top++] = prog.a[at]!;
    }
  }
  return count;
}

/** Whether `pc` is a CHAR instruction whose set holds `c`. */
export function consumes(prog: Program, pc: number, c: number): boolean {
  return prog.op[pc] === CHAR && inSet(prog.sets[pc]!, c);
}

/** Whether the program has `\b` or `\B`, which the DFA cannot decide from its state alone. */
export function hasBoundary(prog: Program): boolean {
  for (let pc = 0; pc < prog.op.length; pc++) if (prog.op[pc] === ASSERT && prog.a[pc]! >= ASSERTS.boundary) return true;
  return false;
}

/** Starts a new set of marks (one per list built). */
export function nextGeneration(run: RunState): void {
  if (run.gen >= 0xfffffff0) {
    run.marks.fill(0);
    run.gen = 0;
  }
  run.gen++;
}

/**
 * Whether the program matches anywhere in `input` (RegExp `test`, Dart `hasMatch`), stepping every thread.
 * @example runPike(compileProgram(parseRegex("\\.wavi"), 100), "phone.wavi@alice") // true
 */
export function runPike(prog: Program, input: string): boolean {
  const run = prog.run;
  let [cur, next] = run.lists;
  let count = 0;
  nextGeneration(run);
  for (let pos = 0; ; pos++) {
    if (pos === 0 || !prog.anchored) {
      count = addThread(prog, cur, count, 0, input, pos);
      if (count < 0) return true;
    }
    if (pos === input.length || (count === 0 && prog.anchored)) return false;
    const c = input.charCodeAt(pos);
    run.steps += count;
    nextGeneration(run);
    let nextCount = 0;
    for (let i = 0; i < count; i++) {
      const pc = cur[i]!;
      if (!consumes(prog, pc, c)) continue;
      nextCount = addThread(prog, next, nextCount, pc + 1, input, pos + 1);
      if (nextCount < 0) return true;
    }
    [cur, next] = [next, cur];
    count = nextCount;
  }
}
