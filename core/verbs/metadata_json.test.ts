import { expect, test } from "bun:test";
import { lookupAllJson, metadataJson, syncEntriesJson, type AtMetadata } from "./metadata_json.ts";
import { statsJson } from "./stats_json.ts";

const T0 = Date.UTC(2024, 9, 24, 10, 0, 0, 0);

const full: AtMetadata = {
  skeEncAlgo: "sa",
  ivNonce: "aXY=",
  isEncrypted: true,
  createdBy: "@alice",
  updatedBy: "@alice",
  createdAt: T0,
  updatedAt: T0 + 1,
  availableAt: T0,
  expiresAt: null,
  status: "active",
  version: 0,
  ttl: 0,
  ttr: 86400,
  ccd: false,
  dataSignature: undefined,
};

test("metadataJson() writes the reference field order, Dart dates, and drops nulls", () => {
  expect(metadataJson(full)).toBe(
    '{"createdBy":"@alice","updatedBy":"@alice","createdAt":"2024-10-24 10:00:00.000Z","updatedAt":"2024-10-24 10:00:00.001Z",' +
      '"availableAt":"2024-10-24 10:00:00.000Z","status":"active","version":0,"ttl":0,"ttr":86400,"ccd":false,' +
      '"isEncrypted":true,"ivNonce":"aXY=","skeEncAlgo":"sa"}',
  );
  expect(metadataJson({})).toBe("{}");
});

test("metadataJson() nests pubKeyHash right after pubKeyCS; the sync form prints it as a Dart map", () => {
  const m: AtMetadata = { pubKeyCS: "ab", pubKeyHash: "cd", hashingAlgo: "sha512", encoding: "base64" };
  expect(metadataJson(m)).toBe('{"pubKeyCS":"ab","pubKeyHash":{"hash":"cd","hashingAlgo":"sha512"},"encoding":"base64"}');
  expect(metadataJson({ skeEncAlgo: "x", pubKeyHash: "cd", ttl: 1 })).toBe('{"ttl":1,"pubKeyHash":{"hash":"cd","hashingAlgo":null},"skeEncAlgo":"x"}');
  expect(syncEntriesJson([{ atKey: "k@a", value: "v", metadata: m, commitId: 1, operation: "*" }])).toContain(
    '"pubKeyHash":"{hash: cd, hashingAlgo: sha512}"',
  );
});

test("lookupAllJson() nests the metadata and drops a null value", () => {
  expect(lookupAllJson("public:x@alice", "v", { ttl: 5 })).toBe('{"key":"public:x@alice","data":"v","metaData":{"ttl":5}}');
  expect(lookupAllJson("public:x@alice", null, {})).toBe('{"key":"public:x@alice","metaData":{}}');
});

test("syncEntriesJson() writes metadata values as strings and nulls for deletes", () => {
  expect(
    syncEntriesJson([
      { atKey: "@bob:phone.wavi@alice", value: "b64", metadata: { createdAt: T0, version: 0, ttr: 86400, ccd: false, isEncrypted: true }, commitId: 12, operation: "*" },
      { atKey: "shared_key.bob@alice", value: null, metadata: null, commitId: 13, operation: "-" },
    ]),
  ).toBe(
    '[{"atKey":"@bob:phone.wavi@alice","value":"b64","metadata":{"createdAt":"2024-10-24 10:00:00.000Z","version":"0","ttr":"86400",' +
      '"ccd":"false","isEncrypted":"true"},"commitId":12,"operation":"*"},' +
      '{"atKey":"shared_key.bob@alice","value":null,"metadata":null,"commitId":13,"operation":"-"}]',
  );
  expect(syncEntriesJson([])).toBe("[]");
});

test("statsJson() is a Dart list toString: string ids, comma-space separators, valid JSON", () => {
  const out = statsJson([
    { id: 3, name: "lastCommitID", value: "42" },
    { id: 1, name: "activeInboundConnections", value: 2 },
  ]);
  expect(out).toBe('[{"id":"3","name":"lastCommitID","value":"42"}, {"id":"1","name":"activeInboundConnections","value":2}]');
  expect(JSON.parse(out)).toHaveLength(2);
});
