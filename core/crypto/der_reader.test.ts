import { expect, test } from "bun:test";
import { bits, oid, seq, set, tlv, utf8 } from "./der.ts";
import { derBytes, derChildren, readDerElement } from "./der_reader.ts";

test("walks what der.ts writes, short and long lengths, and returns elements byte for byte", () => {
  const name = seq(set(seq(oid("2.5.4.3"), utf8("Inlay dev CA"))));
  const big = bits(new Uint8Array(300)); // a two-byte length
  const der = seq(name, big, tlv(0x02, Uint8Array.of(5)));
  const top = readDerElement(der);
  expect(top).toMatchObject({ tag: 0x30, start: 0, end: der.byteLength });
  const [a, b, c] = derChildren(der, top);
  expect(derBytes(der, a!)).toEqual(name);
  expect(derBytes(der, b!)).toEqual(big);
  expect(b!.contentStart - b!.start).toBe(4); // tag, 0x82, two length bytes
  expect(c).toMatchObject({ tag: 0x02, end: der.byteLength });
});

test("refuses truncated, indefinite and overlong encodings with the offset", () => {
  expect(() => readDerElement(Uint8Array.of(0x30))).toThrow(/offset 0: truncated header/);
  expect(() => readDerElement(Uint8Array.of(0x30, 0x80, 0, 0))).toThrow(/indefinite/);
  expect(() => readDerElement(Uint8Array.of(0x04, 0x05, 1, 2))).toThrow(/past the end/);
  expect(() => readDerElement(Uint8Array.of(0x04, 0x82, 1))).toThrow(/truncated length/);
  const lying = Uint8Array.of(0x30, 0x03, 0x04, 0x05, 1); // child claims more than its parent holds
  expect(() => derChildren(lying, { tag: 0x30, start: 0, contentStart: 2, end: 5 })).toThrow(RangeError);
});
