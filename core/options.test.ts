import { expect, test } from "bun:test";
import { helpText, parseOptions, portSchema, UsageError, type OptionSpec } from "./options.ts";

const spec = {
  host: { kind: "string", help: "address to bind", default: "0.0.0.0" },
  port: { kind: "number", help: "port", default: 64, schema: portSchema },
  token: { kind: "string", help: "admin token", env: false },
  json: { kind: "boolean", help: "machine output", default: false },
  permit: { kind: "list", help: "allowed targets", default: [] as string[], arg: "HOST:PORT" },
} satisfies OptionSpec;

test("flags, = form, booleans, lists and positionals", () => {
  const p = parseOptions(spec, ["@alice", "--port=6464", "--json", "--permit", "a:1", "--permit", "b:2,c:3", "--host", "::1"], {});
  expect({ ...p.options }).toEqual({ host: "::1", port: 6464, token: undefined as unknown as string, json: true, permit: ["a:1", "b:2", "c:3"] });
  expect(p.positionals).toEqual(["@alice"]);
});

test("env vars fill what flags do not give; flags win", () => {
  const p = parseOptions(spec, ["--port", "7"], { INLAY_PORT: "9", INLAY_HOST: "127.0.0.1", INLAY_TOKEN: "leak", INLAY_PERMIT: "x:1,y:2" });
  expect(p.options.port).toBe(7);
  expect(p.options.host).toBe("127.0.0.1");
  expect(p.options.token).toBeUndefined();
  expect(p.options.permit).toEqual(["x:1", "y:2"]);
});

test.each([
  [["--nope"], "Unknown option --nope"],
  [["--port"], "Option --port needs a value"],
  [["--port", "abc"], 'expected a number, got "abc"'],
  // zod/mini has no messages of its own: the parser asks for the English ones, so the reason stays readable.
  [["--port", "70000"], "Invalid --port: Too big: expected number to be <=65535"],
  [["--port", "1.5"], "Invalid --port: Invalid input: expected int, received number"],
  [["--json=maybe"], "expected true or false"],
])("usage error for %p", (argv, message) => {
  expect(() => parseOptions(spec, argv, {})).toThrow(UsageError);
  expect(() => parseOptions(spec, argv, {})).toThrow(message);
});

test("help lists every option with env var and default", () => {
  const text = helpText("bun directory.ts [options]", "The directory.", spec);
  expect(text).toContain("--port NUMBER");
  expect(text).toContain("INLAY_PORT, default 64");
  expect(text).toContain("--permit HOST:PORT");
  expect(text).not.toContain("INLAY_TOKEN");
  expect(parseOptions(spec, ["-h"], {}).help).toBe(true);
});
