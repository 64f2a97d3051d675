import { describe, expect, test } from "bun:test";
import {
  AtProtocolError,
  dataResponse,
  dataSpaceResponse,
  errorPrompt,
  errorResponse,
  inboundLimitResponse,
  invalidCommand,
  invalidSyntax,
  isAtErrorCode,
  polResponse,
  prompt,
  UNAUTHENTICATED,
  wantsJsonErrors,
  type AuthState,
} from "./index.ts";

const owner: AuthState = { auth: "owner", atSign: "@alice" };
const pol: AuthState = { auth: "pol", atSign: "@bob" };

describe("prompts", () => {
  const cases: [AuthState, string, string][] = [
    [UNAUTHENTICATED, "@", "@"],
    [owner, "@alice@", "@alice@"],
    [pol, "@bob@", "@"],
  ];
  for (const [state, ok, err] of cases) {
    test(`prompt() and errorPrompt() for ${state.auth}`, () => {
      expect(prompt(state)).toBe(ok);
      expect(errorPrompt(state)).toBe(err);
    });
  }
});

describe("success forms", () => {
  test("dataResponse() puts payload and prompt in one string", () => {
    expect(dataResponse("success", "@alice@")).toBe("data:success\n@alice@");
    expect(dataResponse(null, "@")).toBe("data:null\n@");
    expect(dataResponse("", "@")).toBe("data:\n@");
  });
  test("dataSpaceResponse() has the space after data:", () => {
    expect(dataSpaceResponse('{"@bob":"1"}', "@alice@")).toBe('data: {"@bob":"1"}\n@alice@');
  });
  test("polResponse() has no data: and no newline", () => {
    expect(polResponse("@alice")).toBe("@alice@");
  });
  test("inboundLimitResponse() is form A without prompt", () => {
    expect(inboundLimitResponse()).toBe("error:AT0012-Inbound connection limit exceeded\n");
  });
});

describe("error forms", () => {
  const notFound = new AtProtocolError("AT0015", "@alice:phone@bob does not exist in keystore");
  const cases: { name: string; err: AtProtocolError; state: AuthState; version?: string; wire: string }[] = [
    {
      name: "A unauthenticated",
      err: new AtProtocolError("AT0401", "Command cannot be executed without auth"),
      state: UNAUTHENTICATED,
      wire: "error:AT0401-Exception: Command cannot be executed without auth\n@",
    },
    {
      name: "A owner",
      err: notFound,
      state: owner,
      wire: "error:AT0015-key not found : @alice:phone@bob does not exist in keystore\n@alice@",
    },
    {
      name: "A pol uses Exception: and @",
      err: notFound,
      state: pol,
      wire: "error:AT0015-Exception: @alice:phone@bob does not exist in keystore\n@",
    },
    {
      name: "A for client version 3.0.37",
      err: notFound,
      state: owner,
      version: "3.0.37",
      wire: "error:AT0015-key not found : @alice:phone@bob does not exist in keystore\n@alice@",
    },
    {
      name: "B for client version 3.0.38",
      err: notFound,
      state: owner,
      version: "3.0.38",
      wire:
        'error:{"errorCode":"AT0015","errorDescription":"key not found : @alice:phone@bob does not exist in keystore"}\n@alice@',
    },
    {
      name: "B unauthenticated",
      err: invalidCommand(),
      state: UNAUTHENTICATED,
      version: "3.3.0",
      wire: 'error:{"errorCode":"AT0003","errorDescription":"Exception: invalid command"}\n@',
    },
    {
      name: "C handler form ignores version",
      err: new AtProtocolError("AT0026", "enrollment_id: 42 is pending", { form: "handler" }),
      state: UNAUTHENTICATED,
      version: "3.3.0",
      wire: "error:AT0026:enrollment_id: 42 is pending\n@",
    },
    {
      name: "A with a stray carriage return in the message",
      err: invalidSyntax("scan[:showhidden:true] [regex]\r"),
      state: UNAUTHENTICATED,
      wire: "error:AT0003-Exception: Invalid syntax. Usage: scan[:showhidden:true] [regex] \n@",
    },
  ];
  for (const c of cases) {
    test(`errorResponse() form ${c.name}`, () => {
      expect(errorResponse(c.err, { state: c.state, clientVersion: c.version })).toBe(c.wire);
    });
  }
});

describe("AtProtocolError", () => {
  test("takes closes from the table unless overridden", () => {
    expect(new AtProtocolError("AT0005", "x").closes).toBe(true);
    expect(new AtProtocolError("AT0003", "x").closes).toBe(false);
    expect(new AtProtocolError("AT0011", "x", { closes: false }).closes).toBe(false);
    expect(new AtProtocolError("AT0011", "x").form).toBe("exception");
  });
});

describe("wantsJsonErrors()", () => {
  const cases: [string | undefined, boolean][] = [
    [undefined, false],
    ["3.0.37", false],
    ["3.0.38", true],
    ["3.1.0", true],
    ["4.0.0", true],
    ["2.99.99", false],
    ["3.0.37-beta", false],
    ["3.0.38-beta.1", true],
    ["garbage", false],
    ["", false],
  ];
  for (const [v, want] of cases) test(`${JSON.stringify(v)} -> ${want}`, () => expect(wantsJsonErrors(v)).toBe(want));
});

test("isAtErrorCode() knows the table", () => {
  expect(isAtErrorCode("AT0015")).toBe(true);
  expect(isAtErrorCode("AT9999")).toBe(false);
  expect(isAtErrorCode("toString")).toBe(false);
});
