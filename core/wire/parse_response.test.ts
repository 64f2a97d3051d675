import { describe, expect, test } from "bun:test";
import {
  AtProtocolError,
  dataResponse,
  dataSpaceResponse,
  errorResponse,
  parsePolResponse,
  parseResponse,
  polResponse,
  stripPrompt,
  type AuthState,
  type ParsedResponse,
} from "./index.ts";

const owner: AuthState = { auth: "owner", atSign: "@alice" };

// Splits a response the way a client sees it: the payload line, the prompt left at the front of what follows.
function payloadLine(wire: string): string {
  return wire.slice(0, wire.indexOf("\n"));
}

describe("parseResponse() inverts the server's forms", () => {
  const err = new AtProtocolError("AT0015", "x@alice does not exist");
  const cases: [string, ParsedResponse][] = [
    [payloadLine(dataResponse("success", "@alice@")), { kind: "data", payload: "success" }],
    [payloadLine(dataResponse(null, "@")), { kind: "data", payload: "null" }],
    [payloadLine(dataSpaceResponse("[]", "@alice@")), { kind: "data", payload: " []" }],
    [
      payloadLine(errorResponse(err, { state: owner })),
      { kind: "error", code: "AT0015", description: "key not found : x@alice does not exist", form: "A" },
    ],
    [
      payloadLine(errorResponse(err, { state: owner, clientVersion: "3.3.0" })),
      { kind: "error", code: "AT0015", description: "key not found : x@alice does not exist", form: "B" },
    ],
    [
      payloadLine(errorResponse(new AtProtocolError("AT0026", "enrollment_id: e1 is pending", { form: "handler" }), { state: owner })),
      { kind: "error", code: "AT0026", description: "enrollment_id: e1 is pending", form: "C" },
    ],
    ["error:something odd", { kind: "error", code: "AT0014", description: "something odd", form: "A" }],
    ['error:{"no":"code"}', { kind: "error", code: "AT0014", description: '{"no":"code"}', form: "A" }],
    ["data:x\r", { kind: "data", payload: "x" }],
  ];
  for (const [line, want] of cases) test(JSON.stringify(line), () => expect(parseResponse(line)).toEqual(want));
  test("anything else is null", () => {
    expect(parseResponse("hello")).toBeNull();
    expect(parseResponse("")).toBeNull();
  });
});

test("stripPrompt() removes @ and @alice@ but never a payload", () => {
  expect(stripPrompt("@data:x")).toBe("data:x");
  expect(stripPrompt("@alice@error:AT0003-x")).toBe("error:AT0003-x");
  expect(stripPrompt("data:@bob@")).toBe("data:@bob@");
});

test("parsePolResponse() reads exactly @sign@", () => {
  expect(parsePolResponse(polResponse("@alice"))).toBe("@alice");
  expect(parsePolResponse("data:@alice@")).toBeNull();
  expect(parsePolResponse("@")).toBeNull();
});
