import { describe, expect, test } from "bun:test";
import { AtProtocolError } from "../wire/at_protocol_error.ts";
import type { CommandOf } from "./command.ts";
import { buildEnroll, parseEnroll } from "./enroll.ts";

/** The AtProtocolError `line` is refused with. */
function refusal(line: string): AtProtocolError {
  try {
    parseEnroll(line);
  } catch (err) {
    if (err instanceof AtProtocolError) return err;
    throw err;
  }
  throw new Error(`accepted ${line}`);
}

// zod/mini has no messages of its own ("Invalid input"): the AT0022 text must still say what is wrong and where.
test.each([
  ['{"apkamKeysExpiryInMillis":-5}', "Too small: expected number to be >=0   → at apkamKeysExpiryInMillis"],
  ['{"apkamKeysExpiryInMillis":1.5}', "Invalid input: expected int, received number   → at apkamKeysExpiryInMillis"],
  ['{"appName":5}', "Invalid input: expected string, received number   → at appName"],
  ['{"namespaces":{"a":1}}', "Invalid input: expected string, received number   → at namespaces.a"],
  ['{"enrollmentStatusFilter":["nope"]}', 'Invalid option: expected one of "pending"|"approved"|"denied"|"revoked"|"expired"   → at enrollmentStatusFilter[0]'],
])("enroll:request:%s is AT0022 naming the field and the reason", (json, reason) => {
  const err = refusal(`enroll:request:${json}`);
  expect(err.code).toBe("AT0022");
  expect(err.message).toBe(`Invalid enroll parameters: ✖ ${reason}`);
});

test("unknown fields are dropped and nulls count as absent", () => {
  expect(parseEnroll('enroll:request:{"appName":"a","otp":null,"extra":1}')).toEqual({ verb: "enroll", operation: "request", params: { appName: "a" } });
});

// The 3.15/3.16 forms as at_commons' EnrollVerbBuilder writes them (its EnrollParams field order, nulls
// dropped) and as 00-protocol-spec.md gives them, with the Command each parses to. Each line builds back byte
// for byte, and each Command survives build → parse.
const UUID = "6f1c2d3e-4b5a-4c6d-8e7f-901a2b3c4d5e";
const APSK = { v: 1, keys: [{ use: "sign", alg: "mldsa65", pub: "cHVi", status: "active" }] };
const NEW_FORMS: [string, CommandOf<"enroll">][] = [
  [
    `enroll:update:{"enrollmentId":"${UUID}","apkamPublicKey":"MIIBIjAN","signingAlgo":"rsa2048","apkamPublicKeySignature":"c2lnbmVk"}`,
    { verb: "enroll", operation: "update", params: { enrollmentId: UUID, apkamPublicKey: "MIIBIjAN", signingAlgo: "rsa2048", apkamPublicKeySignature: "c2lnbmVk" } },
  ],
  [`enroll:update:{"enrollmentId":"${UUID}","apsk":${JSON.stringify(APSK)}}`, { verb: "enroll", operation: "update", params: { enrollmentId: UUID, apsk: APSK } }],
  [`enroll:update:{"enrollmentId":"${UUID}","apskLegacy":"MIIBIjAN"}`, { verb: "enroll", operation: "update", params: { enrollmentId: UUID, apskLegacy: "MIIBIjAN" } }],
  [
    `enroll:update:{"enrollmentId":"${UUID}","metadata":{"keyPackage":{"v":1,"keys":[]}}}`,
    { verb: "enroll", operation: "update", params: { enrollmentId: UUID, metadata: { keyPackage: { v: 1, keys: [] } } } },
  ],
  ["enroll:listns:wavi", { verb: "enroll", operation: "listns", namespace: "wavi" }],
  ["enroll:listns:buzz.wavi", { verb: "enroll", operation: "listns", namespace: "buzz.wavi" }],
  ["enroll:infons:wavi", { verb: "enroll", operation: "infons", namespace: "wavi" }],
  [
    `enroll:request:{"appName":"wavi","deviceName":"pixel","namespaces":{"wavi":"rw"},"otp":"ABC123","encryptedAPKAMSymmetricKey":"ZW5j","apkamPublicKey":"MIIB","signingAlgo":"rsa2048","apsk":${JSON.stringify(APSK)},"metadata":{"keyPackage":{"v":1}},"apkamKeysExpiryInMillis":86400000}`,
    { verb: "enroll", operation: "request", params: {
      appName: "wavi", deviceName: "pixel", namespaces: { wavi: "rw" }, otp: "ABC123", encryptedAPKAMSymmetricKey: "ZW5j", apkamPublicKey: "MIIB",
      signingAlgo: "rsa2048", apsk: APSK, metadata: { keyPackage: { v: 1 } }, apkamKeysExpiryInMillis: 86400000,
    } },
  ],
  [
    `enroll:approve:{"enrollmentId":"${UUID}","encryptedDefaultEncryptionPrivateKey":"ZW5j","encPrivateKeyIV":"aXYx","encryptedDefaultSelfEncryptionKey":"c2Vs","selfEncKeyIV":"aXYy"}`,
    {
      verb: "enroll",
      operation: "approve",
      params: { enrollmentId: UUID, encryptedDefaultEncryptionPrivateKey: "ZW5j", encPrivateKeyIV: "aXYx", encryptedDefaultSelfEncryptionKey: "c2Vs", selfEncKeyIV: "aXYy" },
    },
  ],
  // A self-enrollment: an APKAM client asks for its replacement (no OTP, namespaces optional).
  [`enroll:request:{"appName":"wavi","deviceName":"pixel","apkamPublicKey":"MIIB","signingAlgo":"ecc_secp256r1"}`, {
    verb: "enroll",
    operation: "request",
    params: { appName: "wavi", deviceName: "pixel", apkamPublicKey: "MIIB", signingAlgo: "ecc_secp256r1" },
  }],
];

describe("the 3.15/3.16 enroll forms", () => {
  test.each(NEW_FORMS)("%s parses, and builds back byte for byte", (line, cmd) => {
    expect(parseEnroll(line)).toEqual(cmd);
    expect(buildEnroll(cmd)).toBe(line);
    expect(parseEnroll(buildEnroll(cmd))).toEqual(cmd);
  });

  test.each([
    ["enroll:listns", "AT0003"],
    ["enroll:infons:", "AT0003"],
    ['enroll:listns:{"namespace":"wavi"}', "AT0003"],
    ["enroll:listns:wa vi", "AT0003"],
    ['enroll:update:{"enrollmentId":"e1","approval":{"state":"approved"}}', "AT0022"],
    ['enroll:update:{"enrollmentId":"e1","status":"approved"}', "AT0022"],
    ['enroll:request:{"apsk":"not a map"}', "AT0022"],
    ['enroll:update:{"metadata":[1]}', "AT0022"],
  ])("%s is %s", (line, code) => {
    expect(refusal(line).code).toBe(code as AtProtocolError["code"]);
  });

  test("a state field is refused by name on update only", () => {
    expect(refusal('enroll:update:{"enrollmentId":"e1","approval":{"state":"approved"}}').message).toContain("cannot change the approval state (approval)");
    expect(parseEnroll('enroll:approve:{"enrollmentId":"e1","status":"x"}')).toEqual({ verb: "enroll", operation: "approve", params: { enrollmentId: "e1" } });
  });
});
