/**
 * @sign rules shared by the directory, the servers and the clients.
 *
 * The reference accepts ASCII letters, digits, `_` and `-`, plus emoji, 1 to 55 characters, and compares
 * @signs lower-cased. We accept the same set so that every @sign the reference can register works here.
 */
import * as z from "zod/mini";

/** Longest @sign body (without the `@`) the reference grammar accepts. */
export const ATSIGN_MAX_CHARS = 55;

// Emoji ranges from the reference key grammar: ©, ®, U+2000-U+3300, variation selectors, and astral
// pictographs (the surrogate pairs starting D83C/D83D/D83E, i.e. U+1F000-U+1FBFF).
const BODY = /^(?:[a-z0-9_-]|[\u00a9\u00ae\u2000-\u3300\ufe00-\ufe0f]|[\u{1f000}-\u{1fbff}])+$/u;

/** Why an @sign was refused, or null when it is valid. `raw` may carry the leading `@` or not. */
export function atSignProblem(raw: string): string | null {
  const body = (raw.startsWith("@") ? raw.slice(1) : raw).toLowerCase();
  if (body.length === 0) return "is empty";
  if ([...body].length > ATSIGN_MAX_CHARS) return `is longer than ${ATSIGN_MAX_CHARS} characters`;
  if (!BODY.test(body)) return "may contain only letters, digits, _ , - and emoji";
  return null;
}

/**
 * Canonical form: `@` plus the lower-cased body. Throws a RangeError naming the problem.
 * @example normalizeAtSign("Alice") // "@alice"
 */
export function normalizeAtSign(raw: string): string {
  const problem = atSignProblem(raw.trim());
  if (problem) throw new RangeError(`Invalid @sign "${raw}": it ${problem}`);
  const t = raw.trim().toLowerCase();
  return t.startsWith("@") ? t : "@" + t;
}

/** zod schema for an @sign at an edge (CLI flag, HTTP body); yields the canonical form. */
export const atSignSchema = z.pipe(
  z.string({ error: "an @sign must be a string" }),
  z.transform((v: string, ctx) => {
    const problem = atSignProblem(v.trim());
    if (!problem) return normalizeAtSign(v);
    ctx.issues.push({ code: "custom", message: `@sign "${v}" ${problem}`, input: v });
    return z.NEVER;
  }),
);
