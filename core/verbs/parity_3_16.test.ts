/**
 * The forms at_commons 5.10–5.19 and at_server 3.7–3.16 added, as their builders and frozen tests write them:
 * each parses to its Command and builds back to the same bytes.
 */
import { describe, expect, test } from "bun:test";
import { buildCommand, parseCommand, type Command } from "./index.ts";

// at_commons' frozen notify:multi line (its notify_multi test) and at_server's (its handler test, with `update`).
const APP_META_MULTI =
  "eyJwcm92aWRlcklkIjoiYXQvc3ltbWV0cmljL0FFUy9HQ00vbXVsdGlyZWNpcGllbnQiLCJja0tpZCI6ImFiY2QiLCJpdiI6ImFYWT0iLCJucyI6ImNoYXQubXlhcHAiLCJja05zIjoiY2hhdC5teWFwcCJ9";
const APP_META_GROUP =
  "eyJwcm92aWRlcklkIjoiYXQvc3ltbWV0cmljL0FFUy9HQ00vZ3JvdXAiLCJja0tpZCI6ImFiY2QiLCJpdiI6ImFYWT0iLCJucyI6ImNoYXQubXlhcHAiLCJja05zIjoiY2hhdC5teWFwcCJ9";
const T1 = "2026-05-05T11:59:44.123456Z";
const T2 = "2026-05-12T08:00:00Z";

const GOOD: [string, Command][] = [
  [
    `notify:multi:ttln:900000:isEncrypted:true:appMetadata:${APP_META_MULTI}:@bob,@sitaram:msg.chat.myapp@alice:CIPHERTEXT`,
    {
      verb: "notifyMulti",
      ttln: 900000,
      metadata: { isEncrypted: true, appMetadata: APP_META_MULTI },
      recipients: ["@bob", "@sitaram"],
      atKey: "msg.chat.myapp",
      atSign: "@alice",
      value: "CIPHERTEXT",
    },
  ],
  [
    `notify:multi:update:ttln:900000:isEncrypted:true:appMetadata:${APP_META_GROUP}:@bob,@sitaram:msg.chat.myapp@alice:CIPHERTEXT`,
    {
      verb: "notifyMulti",
      operation: "update",
      ttln: 900000,
      metadata: { isEncrypted: true, appMetadata: APP_META_GROUP },
      recipients: ["@bob", "@sitaram"],
      atKey: "msg.chat.myapp",
      atSign: "@alice",
      value: "CIPHERTEXT",
    },
  ],
  ["notify:multi:@bob,@BOB:msg.chat.myapp@alice:v", { verb: "notifyMulti", metadata: {}, recipients: ["@bob", "@BOB"], atKey: "msg.chat.myapp", atSign: "@alice", value: "v" }],
  ["notify:multi:@alice:msg.chat.myapp@alice:v:with:colons", { verb: "notifyMulti", metadata: {}, recipients: ["@alice"], atKey: "msg.chat.myapp", atSign: "@alice", value: "v:with:colons" }],
  // What a 3.16.3 sender's server sends the recipient's server for it (the handler test's frozen body).
  [
    `notify:id:n1:update:messageType:key:notifier:system:ttln:899990:ttl:0:ttb:0:isEncrypted:true:appMetadata:${APP_META_GROUP}:@bob:msg.chat.myapp@alice:CIPHERTEXT`,
    {
      verb: "notify",
      id: "n1",
      operation: "update",
      messageType: "key",
      notifier: "system",
      ttln: 899990,
      metadata: { ttl: 0, ttb: 0, isEncrypted: true, appMetadata: APP_META_GROUP },
      forAtSign: "@bob",
      atKey: "msg.chat.myapp",
      atSign: "@alice",
      value: "CIPHERTEXT",
    },
  ],
  // 3.16.3 auto-notifications carry the stored record's cAt/uAt.
  [
    `notify:id:n2:update:messageType:key:ttr:-1:ccd:false:cAt:${T1}:uAt:${T2}:isEncrypted:true:@bob:phone.wavi@alice:djE=`,
    {
      verb: "notify",
      id: "n2",
      operation: "update",
      messageType: "key",
      metadata: { ttr: -1, ccd: false, cAt: T1, uAt: T2, isEncrypted: true },
      forAtSign: "@bob",
      atKey: "phone.wavi",
      atSign: "@alice",
      value: "djE=",
    },
  ],
  ["to:@alice", { verb: "to", atSign: "@alice" }],
  ["info:mtls", { verb: "info", mode: "mtls" }],
  ["info:mtlsbrief", { verb: "info", mode: "mtlsbrief" }],
  ["scan:cl", { verb: "scan", commitLog: true }],
  ["scan:cl .*wavi", { verb: "scan", commitLog: true, regex: ".*wavi" }],
  ["scan:cl:showhidden:true:page:2 .*", { verb: "scan", commitLog: true, showHidden: true, page: 2, regex: ".*" }],
  ["stats:16", { verb: "stats", ids: [16] }],
  ["stats:17", { verb: "stats", ids: [17] }],
  ["stats:1,16,17", { verb: "stats", ids: [1, 16, 17] }],
  ["update:nc:phone.wavi@alice +1", { verb: "update", noCommit: true, key: { name: "phone.wavi", owner: "@alice" }, metadata: {}, value: "+1" }],
  [
    `update:nc:ttl:60000:cAt:${T1}:uAt:${T2}:eAt:${T2}:aAt:${T1}:isEncrypted:true:@bob:phone.wavi@alice djE=`,
    {
      verb: "update",
      noCommit: true,
      key: { sharedWith: "@bob", name: "phone.wavi", owner: "@alice" },
      metadata: { ttl: 60000, cAt: T1, uAt: T2, eAt: T2, aAt: T1, isEncrypted: true },
      value: "djE=",
    },
  ],
  [
    "update:isEncrypted:false:immutable:true:public:signing_key.app@alice MIIB",
    { verb: "update", key: { isPublic: true, name: "signing_key.app", owner: "@alice" }, metadata: { isEncrypted: false, immutable: true }, value: "MIIB" },
  ],
  [
    "update:sharedKeyEnc:ZW5j:pubKeyHash:ab12:hashingAlgo:sha256:encKeyName:k1:encAlgo:AES:@bob:shared_key@alice v",
    {
      verb: "update",
      key: { sharedWith: "@bob", name: "shared_key", owner: "@alice" },
      metadata: { sharedKeyEnc: "ZW5j", pubKeyHash: "ab12", hashingAlgo: "sha256", encKeyName: "k1", encAlgo: "AES" },
      value: "v",
    },
  ],
  [
    'update:nc:json:{"atKey":"phone.wavi","value":"v","sharedBy":"@alice"}',
    { verb: "updateJson", noCommit: true, body: { atKey: "phone.wavi", value: "v", sharedBy: "@alice" } },
  ],
  [
    `update:meta:nc:@bob:phone.wavi@alice:ttl:5:uAt:${T1}:appMetadata:${APP_META_GROUP}`,
    { verb: "updateMeta", noCommit: true, key: { sharedWith: "@bob", name: "phone.wavi", owner: "@alice" }, metadata: { ttl: 5, uAt: T1, appMetadata: APP_META_GROUP } },
  ],
  [`delete:dAt:${T1}:@bob:phone.wavi@alice`, { verb: "delete", deletedAt: T1, key: { sharedWith: "@bob", name: "phone.wavi", owner: "@alice" } }],
  ["delete:nc:phone.wavi@alice", { verb: "delete", noCommit: true, key: { name: "phone.wavi", owner: "@alice" } }],
  ["delete:force:public:signing_key.app@alice", { verb: "delete", force: true, key: { isPublic: true, name: "signing_key.app", owner: "@alice" } }],
  [
    `delete:dAt:${T2}:nc:force:priority:low:cached:@bob:phone.wavi@alice`,
    { verb: "delete", deletedAt: T2, noCommit: true, force: true, priority: "low", key: { cached: true, sharedWith: "@bob", name: "phone.wavi", owner: "@alice" } },
  ],
  // A key named like a flag is still a key.
  ["delete:force@alice", { verb: "delete", key: { name: "force", owner: "@alice" } }],
  ["update:nc@alice v", { verb: "update", key: { name: "nc", owner: "@alice" }, metadata: {}, value: "v" }],
];

describe("3.16 forms parse to their Command and build back to the same line", () => {
  for (const [line, cmd] of GOOD) {
    test(line.length > 90 ? `${line.slice(0, 90)}…` : line, () => {
      expect(parseCommand(line)).toEqual(cmd);
      expect(buildCommand(cmd)).toBe(line);
    });
  }
});

// Lines of the at_commons builders' tests (DeleteVerbBuilder, UpdateVerbBuilder, the put path), the at_server_spec
// grammar equivalence table, the verbs' doc examples and the functional tests: each parses and builds back.
const REFERENCE_LINES = [
  "delete:nc:phone@bob",
  "delete:dAt:2026-05-05T11:59:44.123456Z:phone@bob",
  "delete:dAt:2026-05-05T11:59:44.123456Z:nc:phone@bob",
  "delete:dAt:2026-05-05T11:59:44.123456Z:nc:force:public:phone@bob",
  "delete:dAt:2026-05-05T11:59:44.123456Z:nc:@alice:phone.wavi@bob",
  "delete:dAt:2026-05-05T11:59:44.123456Z:@bob:phone@alice",
  "delete:nc:@bob:phone@alice",
  "delete:force:public:phone@alice",
  "delete:dAt:2024-01-01T00:00:00Z:public:phone@alice",
  "delete:nc:public:phone@alice",
  "update:nc:isEncrypted:false:phone@alice v",
  "update:nc:isEncrypted:false:ordinary.testing@alice a value",
  "update:nc:public:phone@alice val",
  "update:nc:ttr:100000:@bob:nckey-1@alice nc-value-1",
  "update:cAt:2026-05-05T11:59:44.123456Z:phone@alice +1 123",
  "update:meta:nc:public:phone@alice:ttr:-1",
  "update:meta:phone@alice:ccd:false:immutable:true",
  "scan:cl 0b6e1c",
];

describe("the reference's own lines parse and build back byte for byte", () => {
  for (const line of REFERENCE_LINES) test(line, () => expect(buildCommand(parseCommand(line))).toBe(line));
});

test("to:alice (no @, as the reference allows) names @alice", () => {
  expect(parseCommand("to:alice")).toEqual({ verb: "to", atSign: "@alice" });
});

const BAD: [string, string][] = [
  // at_commons' "refused, never misrouted" cases.
  ["notify:multi:ttl:abc:isEncrypted:true:@bob,@sitaram:msg.chat.myapp@alice:CIPHERTEXT", "Usage"],
  ["notify:multi:isEncrypted:maybe:@bob,@sitaram:msg.chat.myapp@alice:CIPHERTEXT", "Usage"],
  ["notify:multi:ttl:abc@evil:isEncrypted:true:@bob,@sitaram:msg.chat.myapp@alice:CIPHERTEXT", "Usage"],
  ["notify:multi:isEncrypted:true:bob,@sitaram:msg.chat.myapp@alice:x", "Usage"],
  ["notify:multi:isEncrypted:true:@bob,@sitaram:msg.chat.myapp:x", "Usage"],
  // The fields a notify:multi refuses, by name.
  ["notify:multi:ttr:60000:@bob:msg.chat.myapp@alice:v", "does not take ttr"],
  ["notify:multi:pubKeyHash:abc:@bob:msg.chat.myapp@alice:v", "does not take pubKeyHash"],
  ["notify:multi:sharedKeyEnc:abc:@bob:msg.chat.myapp@alice:v", "does not take sharedKeyEnc"],
  ["notify:multi:dataSignature:abc:@bob:msg.chat.myapp@alice:v", "does not take dataSignature"],
  ["notify:multi:eph:true:@bob:msg.chat.myapp@alice:v", "Usage"],
  ["update:cAt:2026-05-05:@bob:k@alice v", "Usage"],
  ["update:appMetadata:bm90IGpzb24=:@bob:k@alice v", "Usage"],
  ['update:appMetadata:eyJwcm92aWRlcklkIjoiIn0=:@bob:k@alice v', "Usage"],
  ["delete:dAt:yesterday:k@alice", "Usage"],
  // The flags in the reference's order only (dAt, nc, force): its grammar table lists this one, and refuses it.
  ["delete:force:nc:priority:medium:cached:@bob:phone.wavi@alice", "Usage"],
  ["to:@alice:x", "Usage"],
  ["to:", "Usage"],
  ["info:mtlsx", ""],
];

describe("malformed 3.16 forms are AT0003", () => {
  for (const [line, says] of BAD) {
    test(line.length > 90 ? `${line.slice(0, 90)}…` : line, () => {
      expect(() => parseCommand(line)).toThrow(expect.objectContaining({ code: "AT0003", message: expect.stringContaining(says) }));
    });
  }
});
