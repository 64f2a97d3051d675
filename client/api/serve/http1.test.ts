import { expect, test } from "bun:test";
import { ByteReader, bodyStream, chunkFrame, encodeHead, framingOf, HTTP_HEAD_MAX_BYTES, HttpFramingError, LAST_CHUNK, readHead, requestLine, statusLine } from "./http1.ts";

const enc = new TextEncoder();

/** A reader over `parts`, delivered as separate chunks (so frames split across them). */
function readerOf(...parts: (string | Uint8Array)[]): ByteReader {
  const chunks = parts.map((p) => (typeof p === "string" ? enc.encode(p) : p));
  return new ByteReader(new ReadableStream<Uint8Array>({ pull: (c) => (chunks.length ? c.enqueue(chunks.shift()!) : c.close()) }).getReader());
}

async function all(stream: ReadableStream<Uint8Array> | null): Promise<string> {
  return stream ? new Response(stream).text() : "";
}

test("a request head split across chunks, then a chunked body split mid-size-line and mid-data", async () => {
  const r = readerOf("POST /x?a=1 HT", "TP/1.1\r\nHost: a\r\nX-Y:  v \r\ntransfer-encoding: chunked\r\n\r\n5\r", "\nhel", "lo\r\n3;ext=1\r\nabc\r\n0\r\ntrailer: t\r\n\r\n");
  const head = (await readHead(r))!;
  expect(requestLine(head)).toEqual({ method: "POST", path: "/x?a=1" });
  expect(head.headers).toEqual([
    ["host", "a"],
    ["x-y", "v"],
    ["transfer-encoding", "chunked"],
  ]);
  expect(await all(bodyStream(r, framingOf(head.headers, false)))).toBe("helloabc");
});

test("what the encoder writes, the parser reads back", async () => {
  const head = encodeHead("HTTP/1.1 201 -", [["content-type", "text/plain"]], [["transfer-encoding", "chunked"]]);
  const r = readerOf(head, chunkFrame(enc.encode("one ")), chunkFrame(enc.encode("two")), LAST_CHUNK);
  const h = (await readHead(r))!;
  expect(statusLine(h)).toBe(201);
  expect(await all(bodyStream(r, framingOf(h.headers, true)))).toBe("one two");
});

test("content-length bodies, and a response with no framing runs to the end of the stream", async () => {
  const r = readerOf("PUT /y HTTP/1.1\r\ncontent-length: 4\r\n\r\nabcd");
  const h = (await readHead(r))!;
  expect(await all(bodyStream(r, framingOf(h.headers, false)))).toBe("abcd");
  const c = readerOf("HTTP/1.1 200 OK\r\n\r\n", "to the", " end");
  const ch = (await readHead(c))!;
  expect(await all(bodyStream(c, framingOf(ch.headers, true)))).toBe("to the end");
});

test("ambiguous or malformed framing is refused", async () => {
  expect(() => framingOf([["content-length", "3"], ["transfer-encoding", "chunked"]], false)).toThrow(HttpFramingError);
  expect(() => framingOf([["transfer-encoding", "gzip, chunked"]], false)).toThrow("only transfer-encoding: chunked");
  expect(() => framingOf([["content-length", "1"], ["content-length", "2"]], false)).toThrow("content-length");
  expect(() => framingOf([["content-length", "-1"]], false)).toThrow("content-length");
  const bad = readerOf("POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n");
  const h = (await readHead(bad))!;
  await expect(all(bodyStream(bad, framingOf(h.headers, false)))).rejects.toThrow("malformed chunk size");
});

test("a body cut short is an error, never a shorter body", async () => {
  const r = readerOf("POST / HTTP/1.1\r\ncontent-length: 10\r\n\r\nabc");
  const h = (await readHead(r))!;
  await expect(all(bodyStream(r, framingOf(h.headers, false)))).rejects.toThrow("ended inside a body");
  const c = readerOf("POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab");
  const ch = (await readHead(c))!;
  await expect(all(bodyStream(c, framingOf(ch.headers, false)))).rejects.toThrow(HttpFramingError);
});

test("heads: bounded size, request line checks, end of stream before a head", async () => {
  expect(await readHead(readerOf())).toBeNull();
  await expect(readHead(readerOf("GET / HTTP/1.1\r\n" + "x-a: " + "b".repeat(HTTP_HEAD_MAX_BYTES) + "\r\n\r\n"))).rejects.toThrow("longer than");
  await expect(readHead(readerOf("GET / HTTP/1.1\r\nno colon\r\n\r\n"))).rejects.toThrow("malformed header line");
  const v10 = (await readHead(readerOf("GET / HTTP/1.0\r\n\r\n")))!;
  expect(() => requestLine(v10)).toThrow("unsupported version");
  const frag = (await readHead(readerOf("GET /a#b HTTP/1.1\r\n\r\n")))!;
  expect(() => requestLine(frag)).toThrow("a path starts with /");
  expect(() => encodeHead("GET / HTTP/1.1", [["x", "a\r\nb: c"]], [])).toThrow("line break");
});
