import { describe, expect, test } from "bun:test";
import { AtServerError } from "../errors.ts";
import { latestCommitId, parseBatchReply, parseSyncPage } from "./sync_wire.ts";

describe("sync wire answers", () => {
  test("a sync:from page: string metadata becomes typed, deletes have no value", () => {
    const page = parseSyncPage(
      '[{"atKey":"@bob:phone.wavi@alice","value":"c2VjcmV0","metadata":{"createdBy":"@alice","ttr":"86400","ccd":"false","isEncrypted":"true","ivNonce":"aXY=","isBinary":"null"},"commitId":12,"operation":"*"},' +
        '{"atKey":"shared_key.bob@alice","value":null,"metadata":null,"commitId":13,"operation":"-"}]',
    );
    expect(page).toEqual([
      { key: "@bob:phone.wavi@alice", value: "c2VjcmV0", meta: { createdBy: "@alice", ttr: 86400, ccd: false, isEncrypted: true, ivNonce: "aXY=" }, commitId: 12, isDelete: false },
      { key: "shared_key.bob@alice", value: null, meta: {}, commitId: 13, isDelete: true },
    ]);
    expect(parseSyncPage("[]")).toEqual([]);
  });

  test("bad pages and stats are server errors", () => {
    expect(() => parseSyncPage("not json")).toThrow(AtServerError);
    expect(() => parseSyncPage('[{"atKey":"x@a","commitId":"1","operation":"+"}]')).toThrow(AtServerError);
    expect(() => latestCommitId(' [{"id":"1","name":"activeInboundConnections","value":"2"}]')).toThrow(AtServerError);
  });

  test("stats:3: the decimal string, or null before the first commit", () => {
    expect(latestCommitId(' [{"id":"3","name":"lastCommitID","value":"42"}]')).toBe(42);
    expect(latestCommitId('[{"id":"3","name":"lastCommitID","value":"null"}]')).toBeNull();
    expect(latestCommitId('[{"id":"3","name":"lastCommitID","value":null}]')).toBeNull();
  });

  test("batch replies: commit ids and errors by item id", () => {
    const r = parseBatchReply('[{"id":1,"response":{"data":"12"}},{"id":2,"response":{"error_code":"AT0015","error_message":"key not found"}},{"id":3,"response":{"data":"-1"}}]');
    expect(r.get(1)).toEqual({ ok: true, commitId: 12 });
    expect(r.get(2)).toEqual({ ok: false, code: "AT0015", message: "key not found" });
    expect(r.get(3)).toEqual({ ok: true, commitId: null });
    expect(r.has(4)).toBe(false);
  });
});
