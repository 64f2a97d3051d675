import { expect, test } from "bun:test";
import { concatBytes, readBounded } from "./bytes.ts";

test("concatBytes joins in order, views included", () => {
  const big = Uint8Array.of(9, 1, 2, 9);
  expect(concatBytes([big.subarray(1, 3), Uint8Array.of(), Uint8Array.of(3)])).toEqual(Uint8Array.of(1, 2, 3));
  expect(concatBytes([])).toEqual(new Uint8Array(0));
});

test("readBounded reads up to the limit, refuses more and stops reading", async () => {
  expect(await readBounded(new Response("abc").body, 3)).toEqual(new TextEncoder().encode("abc"));
  expect(await readBounded(new Response("abcd").body, 3)).toBeNull();
  expect(await readBounded(null, 0)).toEqual(new Uint8Array(0));
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({ pull(c) { pulled++; c.enqueue(new Uint8Array(1024)); } });
  expect(await readBounded(endless, 4096)).toBeNull();
  expect(pulled).toBeLessThan(16);
});
