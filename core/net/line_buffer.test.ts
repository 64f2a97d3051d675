import { expect, test } from "bun:test";
import { LineTooLongError, newLineBuffer, pushChunk } from "./line_buffer.ts";

const enc = (s: string) => new TextEncoder().encode(s);

test("lines split across chunks, several lines per chunk, multi-byte characters split mid-way", () => {
  const buf = newLineBuffer(100);
  const bytes = enc("héllo\nwo");
  expect(pushChunk(buf, bytes.subarray(0, 2))).toEqual([]); // splits the é
  expect(pushChunk(buf, bytes.subarray(2))).toEqual(["héllo"]);
  expect(pushChunk(buf, enc("rld\r\nx\n\n"))).toEqual(["world\r", "x", ""]);
});

test("a line over the bound throws and the buffer recovers", () => {
  const buf = newLineBuffer(4);
  expect(() => pushChunk(buf, enc("12345"))).toThrow(LineTooLongError);
  expect(pushChunk(buf, enc("ok\n"))).toEqual(["ok"]);
  pushChunk(buf, enc("123"));
  expect(() => pushChunk(buf, enc("45\n"))).toThrow(LineTooLongError);
});
