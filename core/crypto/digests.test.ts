import { describe, expect, test } from "bun:test";
import { sha512 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { constantTimeEqual } from "./constant_time_equal.ts";
import { cramDigest } from "./digests.ts";
import { utf8 } from "./encoding.ts";
import { publicKeyChecksum } from "./public_key_checksum.ts";

describe("digests", () => {
  test("cramDigest is lowercase hex SHA-512 of secret + challenge", async () => {
    expect(await cramDigest("a", "bc")).toBe(
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    );
    const challenge = "_9c1e@alice:7f3a-é";
    expect(await cramDigest("s3cret", challenge)).toBe(bytesToHex(sha512(utf8("s3cret" + challenge))));
  });

  test("publicKeyChecksum is md5 hex of the key text", () => {
    expect(publicKeyChecksum("abc")).toBe("900150983cd24fb0d6963f7d28e17f72");
  });
});

describe("constantTimeEqual", () => {
  test("compares strings and bytes, false on length mismatch", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
    expect(constantTimeEqual(utf8("é"), "é")).toBe(true);
    expect(constantTimeEqual(new Uint8Array(0), "")).toBe(true);
    expect(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(true);
    expect(constantTimeEqual(Uint8Array.of(1, 2, 3), Uint8Array.of(0, 2, 3))).toBe(false);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0))).toBe(false);
  });
});
