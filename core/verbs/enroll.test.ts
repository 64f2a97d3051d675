import { expect, test } from "bun:test";
import { AtProtocolError } from "../wire/at_protocol_error.ts";
import { parseEnroll } from "./enroll.ts";

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
