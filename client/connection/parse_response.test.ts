import { describe, expect, test } from "bun:test";
import { parseResponse, stripPrompt } from "./parse_response.ts";

// The wire forms themselves are tested in core/wire; this checks the client's result shape.
describe("parseResponse", () => {
  test("data and the three error forms", () => {
    expect(parseResponse('data:{"a":"b:c"}')).toEqual({ ok: true, data: '{"a":"b:c"}' });
    expect(parseResponse("error:AT0015-key not found : x@alice does not exist\r")).toEqual({ ok: false, code: "AT0015", description: "key not found : x@alice does not exist" });
    expect(parseResponse('error:{"errorCode":"AT0401","errorDescription":"Exception: no auth"}')).toEqual({ ok: false, code: "AT0401", description: "Exception: no auth" });
    expect(parseResponse("error:AT0026:enrollment_id: 42 is pending")).toEqual({ ok: false, code: "AT0026", description: "enrollment_id: 42 is pending" });
  });
  test("anything else is a protocol violation", () => {
    expect(parseResponse("hello")).toBeNull();
  });
  test("prompts come off before parsing", () => {
    expect(parseResponse(stripPrompt("@dave@data:x"))).toEqual({ ok: true, data: "x" });
  });
});
