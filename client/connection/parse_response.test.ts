import { describe, expect, test } from "bun:test";
import { parseResponse, stripPrompt } from "./parse_response.ts";

describe("parseResponse", () => {
  test("data: payload keeps everything after the colon", () => {
    expect(parseResponse("data:success")).toEqual({ ok: true, data: "success" });
    expect(parseResponse('data:{"a":"b:c"}')).toEqual({ ok: true, data: '{"a":"b:c"}' });
  });
  test("error form A: CODE-description", () => {
    expect(parseResponse("error:AT0015-key not found : x@alice does not exist")).toEqual({ ok: false, code: "AT0015", description: "key not found : x@alice does not exist" });
  });
  test("error form B: JSON", () => {
    expect(parseResponse('error:{"errorCode":"AT0401","errorDescription":"Exception: no auth"}')).toEqual({ ok: false, code: "AT0401", description: "Exception: no auth" });
  });
  test("error form C: CODE:message", () => {
    expect(parseResponse("error:AT0026:enrollment_id: 42 is pending")).toEqual({ ok: false, code: "AT0026", description: "enrollment_id: 42 is pending" });
  });
  test("anything else is a protocol violation", () => {
    expect(parseResponse("hello")).toBeNull();
  });
});

describe("stripPrompt", () => {
  test("removes the unauthenticated and the owner prompt", () => {
    expect(stripPrompt("@data:x")).toBe("data:x");
    expect(stripPrompt("@alice@data:x")).toBe("data:x");
    expect(stripPrompt("@dave@error:AT0015-x\r")).toBe("error:AT0015-x");
    expect(stripPrompt("data:x")).toBe("data:x");
  });
});
