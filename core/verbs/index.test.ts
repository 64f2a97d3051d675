import { BATCH_MAX_ITEMS } from "./batch.ts";
import { describe, expect, test } from "bun:test";
import { AtProtocolError, MAX_REQUEST_BYTES, type AtErrorCode } from "../wire/index.ts";
import { buildCommand, METADATA_FIELDS, normalizeVerb, parseCommand, type Command, type MetadataPatch } from "./index.ts";

// Lines as real clients send them (Dart at_client/at_lookup, at_c, at_python; ATPROTOCOL.md §4, §5, §10),
// with the Command each must parse to.
const GOOD: [string, Command][] = [
  ["@exit", { verb: "exit" }],
  ["from:@alice", { verb: "from", atSign: "@alice" }],
  ["from:alice", { verb: "from", atSign: "@alice" }],
  [
    'from:@alice:clientConfig:{"version":"3.0.38","clientId":"x","platform":"linux"}',
    {
      verb: "from",
      atSign: "@alice",
      clientConfig: '{"version":"3.0.38","clientId":"x","platform":"linux"}',
      clientVersion: "3.0.38",
    },
  ],
  ["cram:6e1f0a", { verb: "cram", digest: "6e1f0a" }],
  ["pkam:c2lnbmF0dXJl", { verb: "pkam", signature: "c2lnbmF0dXJl" }],
  [
    "pkam:signingAlgo:rsa2048:hashingAlgo:sha256:enrollmentId:0b1e-77:c2ln+/=",
    { verb: "pkam", signingAlgo: "rsa2048", hashingAlgo: "sha256", enrollmentId: "0b1e-77", signature: "c2ln+/=" },
  ],
  ["pkam:enrollmentId:e1:c2ln", { verb: "pkam", enrollmentId: "e1", signature: "c2ln" }],
  ["pkam:signingAlgo:ecc_secp256r1:c2ln", { verb: "pkam", signingAlgo: "ecc_secp256r1", signature: "c2ln" }],
  [
    "pkam:hashingAlgo:sha512:signingAlgo:ed25519:c2ln",
    { verb: "pkam", signingAlgo: "ed25519", hashingAlgo: "sha512", signature: "c2ln" },
  ],
  // Not an option name: becomes part of the signature, as in the reference (then AT0401 at verification).
  ["pkam:foo:c2ln", { verb: "pkam", signature: "foo:c2ln" }],
  ["pol", { verb: "pol" }],
  [
    "update:isEncrypted:false:public:publickey@alice MIIBIjAN",
    { verb: "update", key: { isPublic: true, name: "publickey", owner: "@alice" }, metadata: { isEncrypted: false }, value: "MIIBIjAN" },
  ],
  [
    "update:ttr:86400:isEncrypted:true:@bob:shared_key@alice b64==",
    {
      verb: "update",
      key: { sharedWith: "@bob", name: "shared_key", owner: "@alice" },
      metadata: { ttr: 86400, isEncrypted: true },
      value: "b64==",
    },
  ],
  [
    "update:isEncrypted:true:ivNonce:aXY=:phone.wavi@alice Y2lwaGVy",
    { verb: "update", key: { name: "phone.wavi", owner: "@alice" }, metadata: { isEncrypted: true, ivNonce: "aXY=" }, value: "Y2lwaGVy" },
  ],
  [
    "update:privatekey:at_pkam_publickey MIIB",
    { verb: "update", key: { name: "privatekey:at_pkam_publickey" }, metadata: {}, value: "MIIB" },
  ],
  ["update:public:publickey@alice MIIB", { verb: "update", key: { isPublic: true, name: "publickey", owner: "@alice" }, metadata: {}, value: "MIIB" }],
  // Value: everything after the first space, spaces and colons included.
  ["update:phone@alice +1 555 : 0100", { verb: "update", key: { name: "phone", owner: "@alice" }, metadata: {}, value: "+1 555 : 0100" }],
  // Unknown pairs are ignored; the reference (fixed names) would refuse this one.
  ["update:a:b:c@alice v", { verb: "update", key: { name: "c", owner: "@alice" }, metadata: {}, value: "v" }],
  // The key may end in a single colon: the reference's `(?!:{2})` only forbids `::`.
  ["notify:@bob:k:@alice", { verb: "notify", metadata: {}, forAtSign: "@bob", atKey: "k:", atSign: "@alice" }],
  ["update:metadata.wavi@alice v", { verb: "update", key: { name: "metadata.wavi", owner: "@alice" }, metadata: {}, value: "v" }],
  ["update:phone bare", { verb: "update", key: { name: "phone" }, metadata: {}, value: "bare" }],
  // at_c order (isBinary/isEncrypted before dataSignature) plus its unknown hash/algo names.
  [
    "update:ttl:1000:isBinary:false:isEncrypted:true:dataSignature:c2ln:hash:abc:algo:sha:@bob:k.ns@alice v",
    {
      verb: "update",
      key: { sharedWith: "@bob", name: "k.ns", owner: "@alice" },
      metadata: { ttl: 1000, isBinary: false, isEncrypted: true, dataSignature: "c2ln" },
      value: "v",
    },
  ],
  // at_python order (sharedKeyEnc/pubKeyCS before isEncrypted) and ttln, names in odd case.
  [
    "update:sharedKeyEnc:ZW5j:pubKeyCS:abcd:ISENCRYPTED:true:ttln:5:@bob:k@alice v",
    {
      verb: "update",
      key: { sharedWith: "@bob", name: "k", owner: "@alice" },
      metadata: { sharedKeyEnc: "ZW5j", pubKeyCS: "abcd", isEncrypted: true },
      value: "v",
    },
  ],
  // Newer at_commons adds pubKeyHash/hashingAlgo after pubKeyCS.
  [
    "update:isEncrypted:true:sharedKeyEnc:ZW5j:pubKeyCS:ab:pubKeyHash:cd:hashingAlgo:sha512:@bob:k@alice v",
    {
      verb: "update",
      key: { sharedWith: "@bob", name: "k", owner: "@alice" },
      metadata: { isEncrypted: true, sharedKeyEnc: "ZW5j", pubKeyCS: "ab", pubKeyHash: "cd", hashingAlgo: "sha512" },
      value: "v",
    },
  ],
  // The largest times METADATA_TIME_LIMITS allows.
  [
    "update:ttl:1000000000000000:ttb:1000000000000000:ttr:1000000000000:k@alice v",
    { verb: "update", key: { name: "k", owner: "@alice" }, metadata: { ttl: 1e15, ttb: 1e15, ttr: 1e12 }, value: "v" },
  ],
  [
    "update:ttl:null:ivNonce:null:k@alice v",
    { verb: "update", key: { name: "k", owner: "@alice" }, metadata: { ttl: null, ivNonce: null }, value: "v" },
  ],
  [
    "update:ttl:-1:ttb:0:ttr:-1:ccd:true:sharedKeyStatus:x:encoding:base64:encKeyName:ek:encAlgo:ea:skeEncKeyName:sk:skeEncAlgo:sa:k@alice v",
    {
      verb: "update",
      key: { name: "k", owner: "@alice" },
      metadata: {
        ttl: -1,
        ttb: 0,
        ttr: -1,
        ccd: true,
        sharedKeyStatus: "x",
        encoding: "base64",
        encKeyName: "ek",
        encAlgo: "ea",
        skeEncKeyName: "sk",
        skeEncAlgo: "sa",
      },
      value: "v",
    },
  ],
  [
    'update:json:{"atKey":"phone","value":"1","sharedBy":"@alice","metadata":{"isPublic":true}}',
    { verb: "updateJson", body: { atKey: "phone", value: "1", sharedBy: "@alice", metadata: { isPublic: true } } },
  ],
  [
    "update:meta:@bob:phone@alice:ttl:60000:isBinary:true",
    { verb: "updateMeta", key: { sharedWith: "@bob", name: "phone", owner: "@alice" }, metadata: { ttl: 60000, isBinary: true } },
  ],
  ["update:meta:phone@alice", { verb: "updateMeta", key: { name: "phone", owner: "@alice" }, metadata: {} }],
  [
    "update:meta:ttl:5:public:phone@alice",
    { verb: "updateMeta", key: { isPublic: true, name: "phone", owner: "@alice" }, metadata: { ttl: 5 } },
  ],
  ["delete:phone.wavi@alice", { verb: "delete", key: { name: "phone.wavi", owner: "@alice" } }],
  ["delete:privatekey:at_secret", { verb: "delete", key: { name: "privatekey:at_secret" } }],
  ["delete:public:x@alice", { verb: "delete", key: { isPublic: true, name: "x", owner: "@alice" } }],
  [
    "delete:priority:high:cached:@alice:phone@bob",
    { verb: "delete", priority: "high", key: { cached: true, sharedWith: "@alice", name: "phone", owner: "@bob" } },
  ],
  ["delete:shared_key.bob@alice", { verb: "delete", key: { name: "shared_key.bob", owner: "@alice" } }],
  ["llookup:phone.wavi@alice", { verb: "llookup", key: { name: "phone.wavi", owner: "@alice" } }],
  [
    "llookup:all:cached:public:publickey@bob",
    { verb: "llookup", operation: "all", key: { cached: true, isPublic: true, name: "publickey", owner: "@bob" } },
  ],
  ["llookup:meta:@bob:k@alice", { verb: "llookup", operation: "meta", key: { sharedWith: "@bob", name: "k", owner: "@alice" } }],
  ["llookup:meta@alice", { verb: "llookup", key: { name: "meta", owner: "@alice" } }],
  ["llookup:cached:@alice:shared_key@bob", { verb: "llookup", key: { cached: true, sharedWith: "@alice", name: "shared_key", owner: "@bob" } }],
  ["lookup:publickey@alice", { verb: "lookup", name: "publickey", atSign: "@alice" }],
  ["lookup:all:phone.wavi@bob", { verb: "lookup", operation: "all", name: "phone.wavi", atSign: "@bob" }],
  ["lookup:bypassCache:true:meta:k@bob", { verb: "lookup", bypassCache: true, operation: "meta", name: "k", atSign: "@bob" }],
  ["lookup:_5f1b-2c@alice", { verb: "lookup", name: "_5f1b-2c", atSign: "@alice" }],
  ["lookup:a@b@carol", { verb: "lookup", name: "a@b", atSign: "@carol" }],
  ["plookup:publickey@bob", { verb: "plookup", name: "publickey", atSign: "@bob" }],
  ["plookup:bypassCache:false:all:x.y@bob", { verb: "plookup", bypassCache: false, operation: "all", name: "x.y", atSign: "@bob" }],
  ["scan", { verb: "scan" }],
  ["scan .*wavi", { verb: "scan", regex: ".*wavi" }],
  ["scan:showHidden:true", { verb: "scan", showHidden: true }],
  ["scan:showhidden:false:@bob:page:2 ^x", { verb: "scan", showHidden: false, forAtSign: "@bob", page: 2, regex: "^x" }],
  ["scan:@bob", { verb: "scan", forAtSign: "@bob" }],
  // §2.3 quirk: no colon, so the whole line (regex included) is lower-cased.
  ["SCAN .*Wavi", { verb: "scan", regex: ".*wavi" }],
  [
    "notify:id:0b1e:update:messageType:key:notifier:SYSTEM:ttln:86400000:ttr:-1:ccd:true:isEncrypted:true:sharedKeyEnc:c2s=:pubKeyCS:ab:ivNonce:aXY=:@bob:phone.wavi@alice:Y2lwaGVy",
    {
      verb: "notify",
      id: "0b1e",
      operation: "update",
      messageType: "key",
      notifier: "SYSTEM",
      ttln: 86400000,
      metadata: { ttr: -1, ccd: true, isEncrypted: true, sharedKeyEnc: "c2s=", pubKeyCS: "ab", ivNonce: "aXY=" },
      forAtSign: "@bob",
      atKey: "phone.wavi",
      atSign: "@alice",
      value: "Y2lwaGVy",
    },
  ],
  [
    "notify:id:n2:messageType:text:notifier:SYSTEM:isEncrypted:true:@bob:hello there: friend",
    {
      verb: "notify",
      id: "n2",
      messageType: "text",
      notifier: "SYSTEM",
      metadata: { isEncrypted: true },
      forAtSign: "@bob",
      atKey: "hello there: friend",
    },
  ],
  [
    "notify:update:@bob:public:phone@alice:555",
    { verb: "notify", operation: "update", metadata: {}, forAtSign: "@bob", atKey: "public:phone", atSign: "@alice", value: "555" },
  ],
  ["notify:delete:@bob:phone@alice", { verb: "notify", operation: "delete", metadata: {}, forAtSign: "@bob", atKey: "phone", atSign: "@alice" }],
  [
    "notify:priority:high:strategy:latest:latestN:3:notifier:app1:public:k@alice",
    {
      verb: "notify",
      priority: "high",
      strategy: "latest",
      latestN: 3,
      notifier: "app1",
      metadata: {},
      isPublic: true,
      atKey: "k",
      atSign: "@alice",
    },
  ],
  // at_c's message_type spelling and a value holding `@` and `:`.
  [
    "notify:message_type:text:@bob:hi@alice:a@b:c",
    { verb: "notify", messageType: "text", metadata: {}, forAtSign: "@bob", atKey: "hi", atSign: "@alice", value: "a@b:c" },
  ],
  // at_python: operation right after the id, metadata (ttln among it, Python-cased booleans), then the key.
  [
    "notify:id:5f0c:update:ttl:60000:ttln:900000:ccd:True:isEncrypted:true:ivNonce:aXY=:@bob:phone.wavi@alice:Y2lw",
    {
      verb: "notify",
      id: "5f0c",
      operation: "update",
      ttln: 900000,
      metadata: { ttl: 60000, ccd: true, isEncrypted: true, ivNonce: "aXY=" },
      forAtSign: "@bob",
      atKey: "phone.wavi",
      atSign: "@alice",
      value: "Y2lw",
    },
  ],
  // at_c: message_type spelling, :hash:/:algo: extras, CRLF.
  [
    "notify:id:7a7a:update:message_type:key:priority:low:strategy:all:ttln:1000:ttr:10:isEncrypted:true:hash:ab:algo:sha256:ivNonce:aXY=:@bob:test.ns@alice:Y2lw\r\n",
    {
      verb: "notify",
      id: "7a7a",
      operation: "update",
      messageType: "key",
      priority: "low",
      strategy: "all",
      ttln: 1000,
      metadata: { ttr: 10, isEncrypted: true, ivNonce: "aXY=" },
      forAtSign: "@bob",
      atKey: "test.ns",
      atSign: "@alice",
      value: "Y2lw",
    },
  ],
  ["notify:status:0b1e-77", { verb: "notifyStatus", id: "0b1e-77" }],
  ["notify:fetch:0b1e", { verb: "notifyFetch", id: "0b1e" }],
  ["notify:remove:0b1e_7", { verb: "notifyRemove", id: "0b1e_7" }],
  ["notify:list", { verb: "notifyList" }],
  ["notify:list:.*wavi", { verb: "notifyList", regex: ".*wavi" }],
  ["notify:list:2024-01-01:2024-02-01:bob", { verb: "notifyList", fromDate: "2024-01-01", toDate: "2024-02-01", regex: "bob" }],
  [
    "notify:all:update:messageType:key:ttl:5:ttr:-1:ccd:true:@bob,@carol:phone@alice:hi",
    {
      verb: "notifyAll",
      operation: "update",
      messageType: "key",
      ttl: 5,
      ttr: -1,
      ccd: true,
      recipients: ["@bob", "@carol"],
      atKey: "phone",
      atSign: "@alice",
      value: "hi",
    },
  ],
  ["notify:all:@bob:phone", { verb: "notifyAll", recipients: ["@bob"], atKey: "phone" }],
  ["monitor", { verb: "monitor" }],
  ["monitor .*wavi", { verb: "monitor", regex: ".*wavi" }],
  [
    "monitor:selfNotifications:1700000000000 .*Wavi",
    { verb: "monitor", selfNotifications: true, epochMillis: 1700000000000, regex: ".*Wavi" },
  ],
  ["monitor:strict:multiplexed", { verb: "monitor", strict: true, multiplexed: true }],
  ["monitor:selfNotifications:enable", { verb: "monitor", selfNotifications: true }],
  ["sync:from:-1:limit:25", { verb: "syncFrom", fromCommitId: -1, limit: 25 }],
  ["sync:from:12:limit:100:.*\\.wavi", { verb: "syncFrom", fromCommitId: 12, limit: 100, regex: ".*\\.wavi" }],
  // Newer at_commons: limit optional, skipDeletesUntil.
  ["sync:from:5", { verb: "syncFrom", fromCommitId: 5 }],
  ["sync:from:5:limit:10:skipDeletesUntil:3:wavi", { verb: "syncFrom", fromCommitId: 5, limit: 10, skipDeletesUntil: 3, regex: "wavi" }],
  ["stats", { verb: "stats" }],
  ["stats:3", { verb: "stats", ids: [3] }],
  ["stats:1,2,15", { verb: "stats", ids: [1, 2, 15] }],
  ["stats:3:.*wavi", { verb: "stats", ids: [3], regex: ".*wavi" }],
  ["stats:15:.*", { verb: "stats", ids: [15], regex: ".*" }],
  ["config:block:add:@bob @carol", { verb: "config", operation: "blockAdd", atSigns: ["@bob", "@carol"] }],
  ["config:block:remove:@bob", { verb: "config", operation: "blockRemove", atSigns: ["@bob"] }],
  ["config:block:show", { verb: "config", operation: "blockShow" }],
  ["config:allow:add:@bob", { verb: "config", operation: "allowAdd", atSigns: ["@bob"] }],
  ["config:allow:remove:@bob @carol", { verb: "config", operation: "allowRemove", atSigns: ["@bob", "@carol"] }],
  ["config:allow:show", { verb: "config", operation: "allowShow" }],
  ["config:set:maxNotificationRetries=5", { verb: "config", operation: "set", setting: "maxNotificationRetries=5" }],
  ["config:print:x", { verb: "config", operation: "print", setting: "x" }],
  // The gatekeeper forms are Inlay's own (server/README.md "Gatekeeper").
  ["config:gatekeeper:show", { verb: "config", operation: "gatekeeper", gate: { op: "show" } }],
  ["config:gatekeeper:unknown:in:*:quarantine", { verb: "config", operation: "gatekeeper", gate: { op: "unknown", direction: "in", namespace: "*", policy: "quarantine" } }],
  ["config:gatekeeper:unknown:out:wavi:deny", { verb: "config", operation: "gatekeeper", gate: { op: "unknown", direction: "out", namespace: "wavi", policy: "deny" } }],
  ["config:gatekeeper:allow:in:invitations.chat:@bob @carol", { verb: "config", operation: "gatekeeper", gate: { op: "allow", direction: "in", namespace: "invitations.chat", atSigns: ["@bob", "@carol"] } }],
  ["config:gatekeeper:deny:out:wavi:@bob", { verb: "config", operation: "gatekeeper", gate: { op: "deny", direction: "out", namespace: "wavi", atSigns: ["@bob"] } }],
  ["config:gatekeeper:forget:in:*:@bob", { verb: "config", operation: "gatekeeper", gate: { op: "forget", direction: "in", namespace: "*", atSigns: ["@bob"] } }],
  ["config:gatekeeper:quarantine:list", { verb: "config", operation: "gatekeeper", gate: { op: "quarantineList" } }],
  ["config:gatekeeper:quarantine:admit:@dave", { verb: "config", operation: "gatekeeper", gate: { op: "admit", atSign: "@dave" } }],
  ["config:gatekeeper:quarantine:reject:@dave", { verb: "config", operation: "gatekeeper", gate: { op: "reject", atSign: "@dave", block: false } }],
  ["config:gatekeeper:quarantine:reject:block:@dave", { verb: "config", operation: "gatekeeper", gate: { op: "reject", atSign: "@dave", block: true } }],
  ["info", { verb: "info" }],
  ["info:brief", { verb: "info", mode: "brief" }],
  ["noop:0", { verb: "noop", delayMs: 0 }],
  ["noop:5000", { verb: "noop", delayMs: 5000 }],
  [
    'batch:[{"id":1,"command":"update:phone@alice 1"},{"id":2,"command":"delete:x@alice"}]',
    { verb: "batch", items: [{ id: 1, command: "update:phone@alice 1" }, { id: 2, command: "delete:x@alice" }] },
  ],
  [
    'enroll:request:{"appName":"wavi","deviceName":"pixel","namespaces":{"wavi":"rw"},"otp":"ABC123","apkamPublicKey":"MIIB","encryptedAPKAMSymmetricKey":"ZW5j","enrollmentId":null}',
    {
      verb: "enroll",
      operation: "request",
      params: {
        appName: "wavi",
        deviceName: "pixel",
        namespaces: { wavi: "rw" },
        otp: "ABC123",
        apkamPublicKey: "MIIB",
        encryptedAPKAMSymmetricKey: "ZW5j",
      },
    },
  ],
  ["enroll:list", { verb: "enroll", operation: "list" }],
  [
    'enroll:list:{"enrollmentStatusFilter":["pending","approved"]}',
    { verb: "enroll", operation: "list", params: { enrollmentStatusFilter: ["pending", "approved"] } },
  ],
  ['enroll:revoke:force:{"enrollmentId":"e1"}', { verb: "enroll", operation: "revoke", force: true, params: { enrollmentId: "e1" } }],
  ["otp:get", { verb: "otp", operation: "get" }],
  ["otp:get:ttl:60000", { verb: "otp", operation: "get", ttlMs: 60000 }],
  ["otp:put:ABC123", { verb: "otp", operation: "put", otp: "ABC123" }],
  ["otp:put:ABC123:ttl:0", { verb: "otp", operation: "put", otp: "ABC123", ttlMs: 0 }],
  [
    "keys:get:keyName:e1.default_enc_private_key.__manage@alice",
    { verb: "keys", operation: "get", keyName: "e1.default_enc_private_key.__manage@alice" },
  ],
  ["keys:get:private", { verb: "keys", operation: "get", visibility: "private" }],
  [
    "keys:put:public:namespace:wavi:appName:app:deviceName:dev:keyType:rsa2048:encryptionKeyName:ek:keyName:k1 MIIB",
    {
      verb: "keys",
      operation: "put",
      visibility: "public",
      namespace: "wavi",
      appName: "app",
      deviceName: "dev",
      keyType: "rsa2048",
      encryptionKeyName: "ek",
      keyName: "k1",
      keyValue: "MIIB",
    },
  ],
  ["stream:receive s1", { verb: "stream", operation: "receive", streamId: "s1" }],
  [
    "stream:init@bob s1 my file.txt 1024",
    { verb: "stream", operation: "init", receiver: "@bob", streamId: "s1", fileName: "my file.txt", length: 1024 },
  ],
  ["stream:done s1", { verb: "stream", operation: "done", streamId: "s1" }],
];

describe("parseCommand() accepts real client lines", () => {
  for (const [line, want] of GOOD) {
    test(line.length > 90 ? line.slice(0, 90) + "..." : line, () => {
      expect(parseCommand(line)).toEqual(want);
    });
  }
});

describe("parseCommand() tolerates framing and verb case", () => {
  const cases: [string, Command][] = [
    ["llookup:phone@alice\r\n", { verb: "llookup", key: { name: "phone", owner: "@alice" } }],
    ["  LLOOKUP:phone@alice  ", { verb: "llookup", key: { name: "phone", owner: "@alice" } }],
    ["Up Date:phone@alice V", { verb: "update", key: { name: "phone", owner: "@alice" }, metadata: {}, value: "V" }],
    ["@EXIT", { verb: "exit" }],
    ["INFO", { verb: "info" }],
  ];
  for (const [line, want] of cases) test(JSON.stringify(line), () => expect(parseCommand(line)).toEqual(want));
});

describe("buildCommand() round-trips every command", () => {
  for (const [line, cmd] of GOOD) {
    test(line.length > 90 ? line.slice(0, 90) + "..." : line, () => {
      expect(parseCommand(buildCommand(cmd))).toEqual(cmd);
    });
  }
});

// Lines the reference refuses, with the code we answer.
const BAD: [string, AtErrorCode][] = [
  ["", "AT0003"],
  ["bogus", "AT0003"],
  ["sync:5", "AT0003"],
  ["exit", "AT0003"],
  ["version", "AT0003"],
  ["totp:get", "AT0003"],
  ["from:", "AT0003"],
  ["from:@al ice", "AT0003"],
  ["from:@alice:clientConfig:notjson", "AT0003"],
  ["from:@alice:clientConfig:{not json}", "AT0003"],
  ["from:@alice:foo", "AT0003"],
  ["cram:", "AT0003"],
  ["pkam:", "AT0003"],
  ["pkam:signingAlgo:dsa:c2ln", "AT0003"],
  ["pkam:hashingAlgo:md5:c2ln", "AT0003"],
  ["update:phone@alice", "AT0003"],
  ["update:phone@alice ", "AT0003"],
  ["update:ttl:5 v", "AT0003"],
  ["update:ttl:abc:k@alice v", "AT0003"],
  ["update:ttl:1.5:k@alice v", "AT0003"],
  ["update:ttl:99999999999999999999:k@alice v", "AT0003"],
  // Times past METADATA_TIME_LIMITS (issue 13: 8640000000000000 made every later date formatting throw).
  ["update:ttl:8640000000000000:k@alice v", "AT0003"],
  ["update:ttb:1000000000000001:k@alice v", "AT0003"],
  ["update:ttr:1000000000001:@bob:k@alice v", "AT0003"],
  ["update:meta:phone@alice:ttr:8640000000000000", "AT0003"],
  ["notify:ttr:8640000000000000:@bob:k@alice:v", "AT0003"],
  ["notify:ttl:8640000000000000:@bob:k@alice", "AT0003"],
  ["notify:all:ttb:8640000000000000:@bob:k", "AT0003"],
  ["notify:all:ttr:-8640000000000000:@bob:k", "AT0003"],
  ["update:isEncrypted:yes:k@alice v", "AT0003"],
  ["update:ivNonce:a@b:k@alice v", "AT0003"],
  ["update:@bob:ttl:5:k@alice v", "AT0003"],
  ["update:k@alice@bob v", "AT0003"],
  ["update:privatekey:foo v", "AT0003"],
  ["update:json:", "AT0003"],
  ["update:json:{bad", "AT0003"],
  ['update:json:{"value":1}', "AT0003"],
  ["update:json:[1]", "AT0003"],
  ["update:meta:phone", "AT0003"],
  ["update:meta:phone@alice:ttl", "AT0003"],
  ["update:meta:phone@alice:ttl:x", "AT0003"],
  ["update:meta", "AT0003"],
  ["delete:", "AT0003"],
  ["delete:a:b@alice", "AT0003"],
  ["delete:priority:urgent:k@alice", "AT0003"],
  ["delete:privatekey:at_pkam_publickey", "AT0003"],
  ["llookup:phone", "AT0003"],
  ["llookup:@alice", "AT0003"],
  ["llookup:ph::x@alice", "AT0003"],
  ["llookup:phone@al:ice", "AT0003"],
  ["lookup:phone", "AT0003"],
  ["lookup:x@", "AT0003"],
  ["plookup:a b@bob", "AT0003"],
  ["scanner", "AT0003"],
  ["scan public:.*", "AT0003"],
  ["scan:showhidden:maybe", "AT0003"],
  ["scan:page:x", "AT0003"],
  ["scan a b", "AT0003"],
  ["notify:@bob", "AT0003"],
  ["notify:id:x y:@bob:k@alice", "AT0003"],
  ["notify:messageType:json:@bob:k@alice", "AT0003"],
  ["notify:@bob:k@alice:", "AT0003"],
  ["notify:@bob:k@al ice:v", "AT0003"],
  ["notify:@bob::kk@alice", "AT0003"],
  ["notify:ttl:@bob:k@alice", "AT0003"],
  ["notify:strategy:latest:@bob:k@alice", "AT0003"],
  ["notify:status:", "AT0003"],
  ["notify:remove:a b", "AT0003"],
  ["notify:list:a:b:c", "AT0003"],
  ["notify:all:@bob", "AT0003"],
  ["notify:all:ttl:x:@bob:k", "AT0003"],
  ["monitor:sometimes", "AT0003"],
  ["sync:from:", "AT0003"],
  ["sync:from:x:limit:5", "AT0003"],
  ["stats:0", "AT0003"],
  ["stats:4:.*", "AT0003"],
  ["stats:a", "AT0003"],
  ["config:block:add:bob", "AT0003"],
  ["config:block:list", "AT0003"],
  ["config:gatekeeper:unknown:out:*:quarantine", "AT0003"],
  ["config:gatekeeper:unknown:in:Wa:vi:deny", "AT0003"],
  ["config:gatekeeper:allow:sideways:wavi:@bob", "AT0003"],
  ["config:gatekeeper:deny:in:wavi:bob", "AT0003"],
  ["config:gatekeeper:quarantine:admit:@a @b", "AT0003"],
  ["info:BRIEF", "AT0003"],
  ["info:full", "AT0003"],
  ["noop", "AT0003"],
  ["noop:-1", "AT0003"],
  ["noop:5001", "AT0022"],
  ["batch:", "AT0003"],
  ["batch:{}", "AT0003"],
  ['batch:[{"id":"1","command":"noop:0"}]', "AT0003"],
  ["enroll:approve:{bad", "AT0003"],
  ["enroll:dance", "AT0003"],
  ['enroll:request:{"apkamKeysExpiryInMillis":-5}', "AT0022"],
  ["otp:put", "AT0003"],
  ["otp:get:ABC123", "AT0003"],
  ["otp:put:abc", "AT0003"],
  ["keys:", "AT0003"],
  ["keys:rotate", "AT0003"],
  ["stream:init@bob s1 file", "AT0003"],
];

describe("parseCommand() refuses malformed lines with an AtProtocolError", () => {
  for (const [line, code] of BAD) {
    test(`${JSON.stringify(line)} -> ${code}`, () => {
      let err: unknown;
      try {
        parseCommand(line);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AtProtocolError);
      expect((err as AtProtocolError).code).toBe(code);
      expect((err as AtProtocolError).closes).toBe(false);
    });
  }

  test("an unknown verb says invalid command, a known verb with bad arguments gives its usage", () => {
    expect(() => parseCommand("bogus")).toThrow("invalid command");
    expect(() => parseCommand("update:ttl:5 v")).toThrow(/^Invalid syntax\. Usage: update/);
  });

  test("a line over the request limit is AT0005 and closes", () => {
    let err: unknown;
    try {
      parseCommand("update:k@alice " + "x".repeat(MAX_REQUEST_BYTES));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AtProtocolError);
    expect((err as AtProtocolError).code).toBe("AT0005");
    expect((err as AtProtocolError).closes).toBe(true);
  });

  test("multi-byte characters count as bytes against the limit", () => {
    const line = "update:k@alice " + "é".repeat(MAX_REQUEST_BYTES / 2);
    expect(() => parseCommand(line)).toThrow(AtProtocolError);
  });
});

describe("parseCommand() on hostile input", () => {
  test("large lines just under the limit parse in one pass (no regex backtracking blow-up)", () => {
    const big = "x".repeat(MAX_REQUEST_BYTES - 100);
    expect(parseCommand(`update:k@alice ${big}`)).toMatchObject({ verb: "update", value: big });
    expect(parseCommand(`notify:@bob:k@alice:${big}`)).toMatchObject({ verb: "notify", value: big });
    const shapes = [
      `notify:all:${"a,".repeat(1000)} `,
      `keys:put:keyName:${"a".repeat(100_000)}\r${"b".repeat(100_000)}`,
      `stream:init@bob s ${"a ".repeat(50_000)}x`,
      `lookup:${"@".repeat(100_000)}`,
      `llookup:${"a".repeat(100_000)}`,
      `update:${":a".repeat(100_000)} v`,
      `scan:${"@b:".repeat(50_000)}`,
      `monitor:${"1:".repeat(50_000)}`,
    ];
    for (const line of shapes) expectCommandOrProtocolError(line);
  });

  test("random mutations of good lines never throw anything but AtProtocolError", () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = [":", "@", " ", "\r", "{", "}", "\u0000", "é", "😀", "-", "0", "a", "::", "null"];
    for (let round = 0; round < 3000; round++) {
      const [base] = GOOD[rand(GOOD.length)] ?? ["noop:0"];
      const chars = [...base];
      for (let k = 0, edits = 1 + rand(4); k < edits; k++) {
        const at = rand(chars.length + 1);
        if (rand(2) === 0) chars.splice(at, 1);
        else chars.splice(at, 0, alphabet[rand(alphabet.length)] ?? "");
      }
      expectCommandOrProtocolError(chars.join(""));
    }
  });
});

function expectCommandOrProtocolError(line: string): void {
  try {
    expect(typeof parseCommand(line).verb).toBe("string");
  } catch (e) {
    if (!(e instanceof AtProtocolError)) throw new Error(`non-protocol error for ${JSON.stringify(line.slice(0, 80))}: ${e}`);
  }
}

describe("normalizeVerb()", () => {
  const cases: [string, string][] = [
    ["UPDATE:Phone@alice V", "update:Phone@alice V"],
    ["Up Date:x", "update:x"],
    ["SCAN Wavi", "scan wavi"],
    ["Monitor .*Wavi", "monitor .*wavi"],
    ["MONITOR:1 .*Wavi", "monitor:1 .*Wavi"],
    ["scan public:.*", "scanpublic:.*"],
  ];
  for (const [line, want] of cases) test(`${line} -> ${want}`, () => expect(normalizeVerb(line)).toBe(want));
});

describe("buildCommand() round-trips random metadata through update, update:meta and notify", () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  // The text "null" is not among them: on the wire it means "clear the field".
  const texts = ["aXY=", "c2ln+/", "base64", "rsa_2048", "x-y.z"];
  const patch = (): MetadataPatch => {
    const p: Record<string, unknown> = {};
    for (const [name, kind] of METADATA_FIELDS) {
      if (rand(3) !== 0) continue;
      if (rand(6) === 0) p[name] = null;
      else if (kind === "int") p[name] = rand(2) === 0 ? rand(100000) : -1;
      else if (kind === "bool") p[name] = rand(2) === 0;
      else if (kind === "date") p[name] = ["2026-05-05T11:59:44.123456Z", "2026-05-05T11:59:44Z"][rand(2)];
      else if (kind === "appMetadata") p[name] = btoa('{"providerId":"at/symmetric/AES/GCM"}');
      else p[name] = texts[rand(texts.length)];
    }
    return p as MetadataPatch;
  };
  test("200 random patches", () => {
    for (let i = 0; i < 200; i++) {
      const metadata = patch();
      const cmds: Command[] = [
        { verb: "update", key: { sharedWith: "@bob", name: "k.ns", owner: "@alice" }, metadata, value: "v a:l@ue" },
        { verb: "updateMeta", key: { isPublic: true, name: "k.ns", owner: "@alice" }, metadata },
        { verb: "notify", id: "n1", operation: "update", metadata, forAtSign: "@bob", atKey: "k.ns", atSign: "@alice", value: "v:@x" },
      ];
      for (const c of cmds) expect(parseCommand(buildCommand(c))).toEqual(c);
    }
  });
});

test("a batch over BATCH_MAX_ITEMS commands is AT0022 (one limit, enforced at parse time)", () => {
  const items = Array.from({ length: BATCH_MAX_ITEMS + 1 }, (_, i) => ({ id: i, command: "noop:0" }));
  expect(() => parseCommand(`batch:${JSON.stringify(items)}`)).toThrow(expect.objectContaining({ code: "AT0022" }));
  expect(parseCommand(`batch:${JSON.stringify(items.slice(1))}`)).toMatchObject({ verb: "batch" });
});
