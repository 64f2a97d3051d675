import { expect, test } from "bun:test";
import { base2e15Decode } from "./base2e15.ts";

test("the published example decodes (base2e15 README: 20 bytes in 11 characters)", () => {
  expect(new TextDecoder().decode(base2e15Decode("嗺둽嬖蟝巍媖疌켉溁닽壪"))).toBe("Base2e15 is awesome!");
});

test("each block's ends, and a 7-bit last character", () => {
  // 0x0000 | 1 bit "1" (0x40 left-aligned in 7 bits) → 00 01; 0x7FFF | "1" → FF FF.
  expect([...base2e15Decode("\u3480\u3440")]).toEqual([0x00, 0x01]);
  expect([...base2e15Decode("\ud7a3\u3440")]).toEqual([0xff, 0xff]);
  // 0x1935 | 0x1936 (the first two blocks' seam) then a 7-bit end: 37 bits → 4 bytes, 5 dropped.
  expect([...base2e15Decode("\u4db5\u4e00\u3400")]).toEqual([0x32, 0x6a, 0x64, 0xd8]);
  // One byte alone is one 15-bit character (its low 7 bits are padding): 0x41 << 7 = 0x2080, second block.
  expect([...base2e15Decode(String.fromCharCode(0x4e00 + 0x2080 - 0x1936))]).toEqual([0x41]);
});

test("characters outside the blocks are skipped, and nothing after the 7-bit end is read", () => {
  expect([...base2e15Decode("a\u3480 \u3440\u3480")]).toEqual([0x00, 0x01]);
  expect(base2e15Decode("").byteLength).toBe(0);
});
