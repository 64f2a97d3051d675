import { describe, expect, test } from "bun:test";
import { compileLinearRegex, REGEX_MAX_INSTRUCTIONS, REGEX_MAX_SOURCE_CHARS, RegexSyntaxError, type RegexErrorKind } from "./index.ts";
import { parseRegex } from "./parse.ts";
import { compileProgram, runPike } from "./program.ts";

/** The kind of refusal, or null when the pattern compiles. */
function refusal(source: string): RegexErrorKind | null {
  try {
    compileLinearRegex(source);
    return null;
  } catch (err) {
    if (err instanceof RegexSyntaxError) return err.kind;
    throw err;
  }
}

const KEYS = [
  "public:location.wavi@alice",
  "phone.wavi@alice",
  "@bob:shared_key@alice",
  "shared_key.bob@alice",
  "public:publickey@alice",
  "private:secret.wavi@alice",
  "_latestnotificationid.buzz@alice",
  "public:__hidden.wavi@alice",
  "cached:public:profilepic@bob",
  "@bob:msg-1.conversations.x.personalagent@alice",
  "conversations.123.personalagent@alice",
  "@alice:@bob:ask.laptop.sshnp@alice",
  "laptop.sshnp@alice",
  "@alice:0a1b2c3d-aaaa-bbbb-cccc-0123456789ab.req.inlayapi@bob",
  "@alice:ctrl.s-1234abcd.laptop.inlay_tunnel@bob",
  "atconnections.bob.alice.at_contact.buzz@alice",
  "public:trk.timetracker@alice",
  "query.personalagent@bob",
  "item-1.todo@alice",
  "x.todos.my_app@alice",
  "kryz_dashboard_config.kryz@alice",
  "statsnotification.@alice",
  "",
];

/**
 * Regexes the reference clients and apps built on them send (scan regexes from getKeys/getAtKeys,
 * monitor/subscribe regexes, sync regexes), and our own client's: each must compile and answer as RegExp does.
 */
const CLIENT_REGEXES = [
  ".*", // Java scanNoThrow, Dart defaults
  ".+", // Java ScanCommands
  ".*\\.wavi", // `scan .*\.wavi`
  "wavi", // namespace as regex (getAtKeys(regex: namespace))
  "\\.wavi@",
  "profilepic",
  "item-",
  "cached.*cookbook",
  "[public]:[trk]",
  "conversations\\..*\\.personalagent@alice",
  "query.personalagent@",
  "laptop\\.sshnp@", // noports: `$device\.sshnp@`
  "ask\\.laptop\\.sshnp@",
  ".*\\.todos\\.my_app@",
  ".*kryz_dashboard_config.*",
  "attalk.wavi@",
  "atmosphere",
  "atconnections\\..*",
  "shared_key\\.bob",
  "@bob:shared_key@alice",
  "^public:",
  "(?:wavi|buzz)@",
  "\\.(wavi|buzz|persona)@alice$",
  "req\\.inlayapi", // our client: serve_api monitor
  "res\\.inlayapi",
  "\\.laptop\\.inlay_tunnel@", // our client: control_channel monitor
  "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
  "^@[^:]+:ctrl\\.",
  "\\bwavi\\b",
  "\\w+\\.\\w+@\\w+",
  "\\d+",
  "\\S+@alice",
  "x*",
  "",
];

describe("client regexes from the reference SDKs", () => {
  for (const source of CLIENT_REGEXES) {
    test(`${JSON.stringify(source)} compiles and matches as RegExp`, () => {
      const ours = compileLinearRegex(source);
      const builtin = new RegExp(source);
      expect(KEYS.map((k) => ours.test(k))).toEqual(KEYS.map((k) => builtin.test(k)));
    });
  }

  test("`*.public` (a builder test value in at_java/at_python) is refused as RegExp refuses it", () => {
    expect(() => new RegExp("*.public")).toThrow();
    expect(refusal("*.public")).toBe("invalid");
  });
});

describe("catastrophic patterns run in linear time", () => {
  // No timing assertion: on the built-in engine each of these takes seconds to years; the test timeout bounds them.
  const long = `${"a".repeat(240)}.wavi@alice`;
  for (const [source, input, want] of [
    ["(.*.*.*)*Z", long, false],
    ["(a+)+$", `${"a".repeat(240)}!`, false],
    ["(a|a)*b", "a".repeat(250), false],
    ["(x+x+)+y", "x".repeat(250), false],
    [".*.*.*.*.*.*.*.*=", long, false],
    ["(a*)*(b*)*(a*)*$", long, true],
    ["(.*a){12}", "a".repeat(200), true],
  ] as const) {
    test(`${source} on ${input.length} characters`, () => {
      const re = compileLinearRegex(source);
      for (let i = 0; i < 1000; i++) expect(re.test(input)).toBe(want);
    });
  }
});

describe("refusals", () => {
  for (const [source, kind] of [
    ["(a)\\1", "unsupported"],
    ["a(?=b)", "unsupported"],
    ["a(?!b)", "unsupported"],
    ["(?<=a)b", "unsupported"],
    ["(?<!a)b", "unsupported"],
    ["\\p{L}", "unsupported"],
    ["\\cA", "unsupported"],
    ["\\k<x>", "unsupported"],
    ["\\u{41}", "unsupported"],
    ["\\q", "unsupported"],
    ["[\\1]", "unsupported"],
    ["(?<n>a)|(?<n>b)", "unsupported"],
    ["a{1001}", "tooLarge"],
    ["(a{1000}){1000}", "tooLarge"],
    ["a".repeat(REGEX_MAX_SOURCE_CHARS + 1), "tooLarge"],
    ["*a", "invalid"],
    ["a**", "invalid"],
    ["^*", "invalid"],
    ["\\b+", "invalid"],
    ["(a", "invalid"],
    ["a)", "invalid"],
    ["[a", "invalid"],
    ["[z-a]", "invalid"],
    ["a{3,2}", "invalid"],
    ["{2}", "invalid"],
    ["(?x)", "invalid"],
    ["(?<1a>x)", "invalid"],
    ["a\\", "invalid"],
  ] as const) {
    test(`${JSON.stringify(source.length > 40 ? `${source.slice(0, 20)}…` : source)} is ${kind}`, () => {
      expect(refusal(source)).toBe(kind);
      if (kind !== "invalid") expect(() => new RegExp(source)).not.toThrow();
      else expect(() => new RegExp(source)).toThrow();
    });
  }
  test("the error names the offset", () => {
    expect(() => compileLinearRegex("ab(?=c)")).toThrow("lookaround at offset 2");
  });
});

/** A seeded PRNG (mulberry32), so a failure names a reproducible case. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  "a", "b", ".", "@", ":", "-", "_", "a", "b", "\\.", "\\d", "\\D", "\\w", "\\W", "\\s", "\\S", "\\b", "\\B", "^", "$",
  "|", "(", ")", "(?:", "(?<n>", "[", "]", "[^", "a-c", "\\-", "*", "+", "?", "*?", "+?", "{2}", "{1,3}", "{2,}", "{0}",
  "{", "}", "\\", "\\x41", "\\u0062", "\\0", "\\t", "\\n", "1", "x", "é", "\\]", "[\\]]", "[a-]", "[\\w-]", "[^\\s]", "\\/",
];
const INPUT_ALPHABET = ["a", "b", "c", ".", "@", ":", "-", "_", "1", " ", "\n", "A", "é", "x", "]"];

describe("differential against RegExp (seeded random patterns and inputs)", () => {
  test("every accepted pattern is valid RegExp and matches the same inputs (DFA and Pike VM); every RegExp error is refused", () => {
    const rand = prng(13);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const inputs = Array.from({ length: 40 }, () => Array.from({ length: Math.floor(rand() * 12) }, () => pick(INPUT_ALPHABET)).join(""));
    let accepted = 0;
    for (let i = 0; i < 4000; i++) {
      const source = Array.from({ length: 1 + Math.floor(rand() * 8) }, () => pick(TOKENS)).join("");
      let builtin: RegExp | null = null;
      try {
        builtin = new RegExp(source);
      } catch {
        builtin = null;
      }
      const kind = refusal(source);
      if (builtin === null) {
        expect({ source, refused: kind !== null }).toEqual({ source, refused: true });
        continue;
      }
      expect({ source, refusedAsInvalid: kind === "invalid" }).toEqual({ source, refusedAsInvalid: false });
      if (kind !== null) continue;
      accepted++;
      const ours = compileLinearRegex(source); // the DFA unless the pattern has \b or \B
      const pike = compileProgram(parseRegex(source), REGEX_MAX_INSTRUCTIONS);
      for (const input of inputs) {
        const want = { source, input, match: builtin.test(input) };
        expect({ source, input, match: ours.test(input) }).toEqual(want);
        expect({ source, input, match: runPike(pike, input) }).toEqual(want);
      }
    }
    expect(accepted).toBeGreaterThan(1500);
  });
});

describe("patterns wider than the DFA's state limit", () => {
  test("`.{0,250}Z` goes back to the Pike VM and still answers as RegExp", () => {
    const re = compileLinearRegex(".{0,250}Z");
    const builtin = /.{0,250}Z/;
    for (const input of [`${"x".repeat(240)}Z`, "x".repeat(240), "Z", `${"x".repeat(300)}`, `a\nZ`]) {
      expect(re.test(input)).toBe(builtin.test(input));
    }
  });
});
