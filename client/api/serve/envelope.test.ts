import { expect, test } from "bun:test";
import {
  decodeRequestEnvelope,
  decodeResponseEnvelope,
  encodeRequestEnvelope,
  encodeResponseEnvelope,
  envelopeHeaders,
  isNullBodyStatus,
  MAX_ENVELOPE_HEADERS,
  type ApiRequestEnvelope,
} from "./envelope.ts";

const ID = "0b9c1d3e-5f60-4a7b-8c9d-0e1f2a3b4c5d";
const request: ApiRequestEnvelope = {
  id: ID,
  method: "POST",
  path: "/v1/items?x=1",
  headers: [["content-type", "application/json"]],
  body: new Uint8Array([0, 1, 2, 255]),
  capability: "AgJ0b2tlbg",
  deadline: 1_800_000_000_000,
};

test("a request survives the round trip, body bytes and capability included", () => {
  expect(decodeRequestEnvelope(encodeRequestEnvelope(request))).toEqual(request);
  const { capability: _, ...bare } = request;
  const plain = { ...bare, body: new Uint8Array(0) };
  const text = encodeRequestEnvelope(plain);
  expect(JSON.parse(text)).not.toHaveProperty("b");
  expect(decodeRequestEnvelope(text)).toEqual(plain);
});

test("a response survives the round trip", () => {
  const r = { id: ID, status: 201, headers: [["x-a", "1"]] as [string, string][], body: new TextEncoder().encode("ok") };
  expect(decodeResponseEnvelope(encodeResponseEnvelope(r))).toEqual(r);
});

test("the envelope cannot name a caller: unknown fields are refused", () => {
  const forged = { ...JSON.parse(encodeRequestEnvelope(request)), from: "@bob" };
  expect(decodeRequestEnvelope(JSON.stringify(forged))).toBeString();
});

test("bad envelopes are refused with a reason", () => {
  const base = JSON.parse(encodeRequestEnvelope(request));
  const bad = (patch: Record<string, unknown>) => decodeRequestEnvelope(JSON.stringify({ ...base, ...patch }));
  expect(bad({ v: 2 })).toContain("bad request envelope");
  // The reason travels back to the caller, so it says what is wrong in words (zod/mini alone would say "Invalid input").
  expect(bad({ m: "get" })).toBe("bad request envelope: ✖ Invalid string: must match pattern /^[A-Z]{1,16}$/\n  → at m");
  expect(bad({ dl: 0 })).toBe("bad request envelope: ✖ Too small: expected number to be >0\n  → at dl");
  expect(bad({ id: "not-a-uuid" })).toBeString();
  expect(bad({ m: "get" })).toBeString();
  expect(bad({ p: "no-slash" })).toBeString();
  expect(bad({ p: "/a b" })).toBeString();
  expect(bad({ h: [["bad name", "v"]] })).toBeString();
  expect(bad({ h: [["x", "a\r\nb"]] })).toBeString();
  expect(bad({ h: Array.from({ length: MAX_ENVELOPE_HEADERS + 1 }, (_, i) => [`h${i}`, "v"]) })).toBeString();
  expect(bad({ b: "***" })).toBeString();
  expect(decodeRequestEnvelope("{not json")).toBeString();
  expect(decodeResponseEnvelope(JSON.stringify({ v: 1, id: ID, s: 99, h: [] }))).toBeString();
});

test("hop-by-hop headers are not carried; names are lower-case", () => {
  const h = new Headers({ Host: "x", Connection: "close", "Content-Length": "3", "X-Custom": "1", "Content-Type": "text/plain" });
  expect(envelopeHeaders(h)).toEqual([
    ["content-type", "text/plain"],
    ["x-custom", "1"],
  ]);
});

test("statuses without a body", () => {
  expect([204, 205, 304].every(isNullBodyStatus)).toBe(true);
  expect(isNullBodyStatus(200)).toBe(false);
});
