/**
 * The APKAM rules of at_server 3.15/3.16 over real TLS: `enroll:update` (self-only key rotation in place, with
 * proof of the new key), `enroll:listns` / `enroll:infons`, self-enrollment (approved at once, never wider than
 * the requester, predecessor capped at the successor's first authentication, the first enrollment exempt,
 * revocation cascading to successors), the 3.15 tightening (`otp:get` and `enroll:fetch` of others need
 * `__manage`; `*` does not reach another enrollment's `<id>.a|r|d.__e`), `_apsk` published as given, and
 * the size caps (apsk 20 KB, record 500 KB).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AtAuthError, AtClient } from "../../client/index.ts";
import { namespaceLastRevokedAt, namespaceMembers, rotateApkamKey } from "../../client/enroll/rotate_enrollment.ts";
import { generatePkamKeyPair, signPkam, type AtKeys, type KeyPairText } from "../../core/crypto/index.ts";
import { buildCommand } from "../../core/verbs/index.ts";
import { startServerFixture, type ServerFixture } from "../server_fixture.ts";
import type { WireClient } from "../wire_client.ts";
import { apkamKeys, connectApkam, dataJson, enrollApp, enrollLine, onboardManager, requestWithOtp, startManagedServer } from "./wire_enroll.ts";

let f: ServerFixture;
let manager: WireClient;
let managerId: string;

beforeAll(async () => {
  ({ f, manager, managerId } = await startManagedServer());
});
afterAll(async () => {
  manager?.close();
  await f?.stop();
});

/** `from:` + `pkam:` signed with `key` for enrollment `id` (none: the legacy form); the pkam answer. */
async function pkamWith(c: WireClient, id: string | undefined, key: KeyPairText, atSign = f.atSign): Promise<string> {
  const challenge = (await c.send(`from:${atSign}`)).replace(/^data:/, "");
  const signature = signPkam(challenge, { algo: "ed25519", privateKey: key.privateKey });
  const answer = await c.send(buildCommand({ verb: "pkam", signingAlgo: "ed25519", ...(id ? { enrollmentId: id } : {}), signature }), [`${atSign}@`, "@"]);
  if (answer === "data:success") c.prompt = `${atSign}@`;
  return answer;
}

/** The rotation request of enrollment `id` to `key`, signed by `signer` (the new key unless a test says otherwise). */
function rotation(id: string, key: KeyPairText, signer: KeyPairText = key): string {
  const apkamPublicKeySignature = signPkam(`${id}|${key.publicKey}|ed25519`, { algo: "ed25519", privateKey: signer.privateKey });
  return enrollLine("update", { enrollmentId: id, apkamPublicKey: key.publicKey, signingAlgo: "ed25519", apkamPublicKeySignature });
}

/** The stored metadata of enrollment `id`'s record, read by the manager. */
async function recordMeta(id: string): Promise<Record<string, unknown>> {
  return dataJson(await manager.send(`llookup:meta:${id}.new.enrollments.__manage@alice`));
}

describe("enroll:update", () => {
  let appId: string;
  let app: WireClient;
  let fresh: KeyPairText;
  beforeAll(async () => {
    appId = await enrollApp(f, manager, "rotor", { wavi: "rw" });
    app = await connectApkam(f, appId);
    fresh = await generatePkamKeyPair("ed25519");
  });
  afterAll(() => app?.close());

  test("refuses by name what it may not change, and an update that changes nothing", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ enrollmentId: appId, namespaces: { wavi: "rw", other: "rw" } }, "error:AT0022-Illegal arguments : enroll:update cannot change namespaces"],
      [{ enrollmentId: appId, approval: { state: "approved" } }, "error:AT0022-Illegal arguments : enroll:update cannot change the approval state (approval)"],
      [{ enrollmentId: appId }, "error:AT0022-Illegal arguments : enroll:update must name at least one of"],
      [{ enrollmentId: appId, signingAlgo: "ed25519" }, "error:AT0022-Illegal arguments : signingAlgo cannot be changed without apkamPublicKey"],
      [{ enrollmentId: appId, apsk: { v: 1 }, apskLegacy: "x" }, "error:AT0022-Illegal arguments : apsk and apskLegacy are mutually exclusive"],
      [{ enrollmentId: managerId, metadata: { a: 1 } }, `error:AT0011-Internal server exception : enroll:update is self-only: this connection is authenticated as ${appId}, not ${managerId}`],
    ];
    for (const [params, want] of cases) expect(await app.send(enrollLine("update", params))).toStartWith(want);
  });

  test("a new key needs a signature by the new key over id|key|algo", async () => {
    const { signingAlgo, apkamPublicKey, enrollmentId } = { signingAlgo: "ed25519", apkamPublicKey: fresh.publicKey, enrollmentId: appId };
    expect(await app.send(enrollLine("update", { enrollmentId, apkamPublicKey, signingAlgo }))).toStartWith("error:AT0011-Internal server exception : enroll:update changing apkamPublicKey requires apkamPublicKeySignature");
    // Signed by the current key, not the one being installed: the stolen-session case.
    expect(await app.send(rotation(appId, fresh, await apkamKeys))).toBe("error:AT0011-Internal server exception : apkamPublicKeySignature does not verify against the apkamPublicKey being installed");
    // The new key's signature over another enrollment's id does not verify either.
    const otherId = signPkam(`${managerId}|${fresh.publicKey}|ed25519`, { algo: "ed25519", privateKey: fresh.privateKey });
    const line = enrollLine("update", { enrollmentId, apkamPublicKey, signingAlgo, apkamPublicKeySignature: otherId });
    expect(await app.send(line)).toStartWith("error:AT0011-Internal server exception : apkamPublicKeySignature does not verify");
    expect(dataJson(await app.send(enrollLine("fetch", { enrollmentId: appId }))).status).toBe("approved");
  });

  test("rotates the key in place: same id and grants, the old key stops authenticating", async () => {
    const before = dataJson(await manager.send(enrollLine("fetch", { enrollmentId: appId })));
    expect(dataJson(await app.send(rotation(appId, fresh)))).toEqual({ enrollmentId: appId, status: "approved" });
    const old = await f.connect();
    expect(await pkamWith(old, appId, await apkamKeys)).toStartWith("error:AT0401");
    old.close();
    const rotated = await f.connect();
    expect(await pkamWith(rotated, appId, fresh)).toBe("data:success");
    expect(dataJson(await rotated.send(enrollLine("fetch", { enrollmentId: appId })))).toEqual(before);
    expect(await rotated.send("update:phone.wavi@alice +1")).toMatch(/^data:\d+$/);
    // The device's public key record follows; the record's expiry is untouched (none).
    expect(await manager.send("llookup:public:rotor.phone.pkam.__pkams.__public_keys@alice")).toBe(`data:${fresh.publicKey}`);
    expect((await recordMeta(appId)).expiresAt ?? null).toBeNull();
    rotated.close();
  });

  test("metadata merges key by key; apsk is republished as given", async () => {
    const app2 = await f.connect();
    expect(await pkamWith(app2, appId, fresh)).toBe("data:success");
    expect(dataJson(await app2.send(enrollLine("update", { enrollmentId: appId, metadata: { keyPackage: { v: 1 } } }))).status).toBe("approved");
    expect(dataJson(await app2.send(enrollLine("update", { enrollmentId: appId, metadata: { note: "two" } }))).status).toBe("approved");
    expect(dataJson(await app2.send(enrollLine("fetch", { enrollmentId: appId }))).metadata).toEqual({ keyPackage: { v: 1 }, note: "two" });
    const apsk = { v: 1, keys: [{ use: "sign", alg: "ed25519", pub: fresh.publicKey }] };
    expect(dataJson(await app2.send(enrollLine("update", { enrollmentId: appId, apsk }))).status).toBe("approved");
    expect(await manager.send(`plookup:_apsk.${appId}.a.__e@alice`)).toBe(`data:${JSON.stringify(apsk)}`);
    expect(dataJson(await app2.send(enrollLine("update", { enrollmentId: appId, apskLegacy: "MIIBlegacy" }))).status).toBe("approved");
    expect(await manager.send(`plookup:_apsk.${appId}.a.__e@alice`)).toBe("data:MIIBlegacy");
    app2.close();
  });

  test("a merge that would pass the 500 KB record cap is refused and leaves the record as it was", async () => {
    const app3 = await f.connect();
    expect(await pkamWith(app3, appId, fresh)).toBe("data:success");
    const big = "x".repeat(300 * 1024);
    expect(dataJson(await app3.send(enrollLine("update", { enrollmentId: appId, metadata: { big1: big } }))).status).toBe("approved");
    expect(await app3.send(enrollLine("update", { enrollmentId: appId, metadata: { big2: big } }))).toStartWith("error:AT0022-Illegal arguments : enrollment record is");
    expect(Object.keys(dataJson(await app3.send(enrollLine("fetch", { enrollmentId: appId }))).metadata as object).sort()).toEqual(["big1", "keyPackage", "note"]);
    app3.close();
  });
});

/** A self-enrollment request on `c` (an APKAM connection) for device `device`; the raw answer. */
async function selfEnroll(c: WireClient, app: string, device: string, extra: Record<string, unknown> = {}): Promise<string> {
  return c.send(enrollLine("request", { appName: app, deviceName: device, apkamPublicKey: (await apkamKeys).publicKey, ...extra }));
}

describe("self-enrollment, listns and infons", () => {
  let predId: string;
  let pred: WireClient;
  let watcher: WireClient;
  let succId: string;
  const started = Date.now();
  beforeAll(async () => {
    predId = await enrollApp(f, manager, "selfie", { wavi: "rw" });
    pred = await connectApkam(f, predId);
    watcher = await connectApkam(f, await enrollApp(f, manager, "watcher", { wavi: "r", buzz: "r" }));
  });
  afterAll(() => {
    pred?.close();
    watcher?.close();
  });

  test("a self-enrollment is never wider than the requester, nor other than it", async () => {
    expect(await selfEnroll(pred, "selfie", "phone2", { namespaces: { wavi: "rw", other: "r" } })).toStartWith("error:AT0009-UnAuthorized client in request : A self-enrollment cannot exceed the grants of enrollment");
    expect(await selfEnroll(pred, "selfie", "phone2", { namespaces: { wavi: "r" } })).toStartWith(`error:AT0009-UnAuthorized client in request : A self-enrollment replaces enrollment ${predId} and carries its grants`);
    // `*` covers wavi, but a replacement states its predecessor's grants or none.
    expect(await selfEnroll(manager, "manager", "laptop2", { namespaces: { wavi: "rw" } })).toStartWith("error:AT0009");
  });

  test("is approved at once with exactly the predecessor's grants; its first login caps the predecessor", async () => {
    const answer = dataJson(await selfEnroll(pred, "selfie", "phone"));
    expect(answer.status).toBe("approved");
    succId = answer.enrollmentId as string;
    expect(dataJson(await manager.send(enrollLine("fetch", { enrollmentId: succId }))).namespace).toEqual({ wavi: "rw" });
    expect((await recordMeta(predId)).expiresAt ?? null).toBeNull();
    const succ = await connectApkam(f, succId);
    const capped = Date.parse((await recordMeta(predId)).expiresAt as string);
    expect(capped).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    expect(capped).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000);
    // A second login does not move it again.
    const again = await connectApkam(f, succId);
    expect(Date.parse((await recordMeta(predId)).expiresAt as string)).toBe(capped);
    again.close();
    succ.close();
  });

  test("the first enrollment is never capped by its successor", async () => {
    const answer = dataJson(await selfEnroll(manager, "manager", "laptop"));
    expect(answer.status).toBe("approved");
    const succ = await connectApkam(f, answer.enrollmentId as string);
    expect((await recordMeta(managerId)).expiresAt ?? null).toBeNull();
    // A successor may not revoke what it replaced: the cascade would take it too.
    expect(await succ.send(enrollLine("revoke", { enrollmentId: managerId }))).toStartWith(`error:AT0011-Internal server exception : Cannot revoke enrollment ${managerId}: ${answer.enrollmentId}`);
    succ.close();
  });

  test("a successor's key lifetime may be shorter than its predecessor's, never longer", async () => {
    const boundId = await requestWithOtp(f, manager, "bounded", { wavi: "r" });
    const approve = { enrollmentId: boundId, encryptedDefaultEncryptionPrivateKey: "ZW5j", encryptedDefaultSelfEncryptionKey: "c2VsZg==", apkamKeysExpiryInMillis: 3_600_000 };
    expect(dataJson(await manager.send(enrollLine("approve", approve))).status).toBe("approved");
    const bound = await connectApkam(f, boundId);
    const lifetime = async (extra: Record<string, unknown>) => {
      const id = dataJson(await selfEnroll(bound, "bounded", "phone", extra)).enrollmentId as string;
      return Date.parse((await recordMeta(id)).expiresAt as string) - Date.now();
    };
    for (const asked of [0, 7_200_000, undefined]) {
      const ms = await lifetime(asked === undefined ? {} : { apkamKeysExpiryInMillis: asked });
      expect(ms).toBeGreaterThan(3_500_000);
      expect(ms).toBeLessThanOrEqual(3_600_000);
    }
    expect(await lifetime({ apkamKeysExpiryInMillis: 60_000 })).toBeLessThanOrEqual(60_000);
    bound.close();
  });

  test("listns lists the approved enrollments holding the namespace, to an enrollment that holds it", async () => {
    const roster = JSON.parse((await watcher.send("enroll:listns:wavi")).slice(5)) as { enrollmentId: string; access: string; metadata: unknown }[];
    const byId = new Map(roster.map((m) => [m.enrollmentId, m]));
    expect(byId.get(predId)).toEqual({ enrollmentId: predId, access: "rw", metadata: null });
    expect(byId.get(succId)?.access).toBe("rw");
    expect(byId.get(managerId)?.access).toBe("rw");
    expect(await watcher.send("enroll:listns:other")).toBe('error:AT0009-UnAuthorized client in request : Caller enrollment is not authorised for namespace "other"');
    expect(await watcher.send("enroll:infons:other")).toStartWith("error:AT0009");
  });

  test("revoking a predecessor revokes its successor and cuts its session; infons reports it; unrevoke is ordered", async () => {
    expect(await watcher.send("enroll:infons:wavi")).toBe('data:{"lastRevokedAt":null}');
    const succ = await connectApkam(f, succId);
    const answer = dataJson(await manager.send(enrollLine("revoke", { enrollmentId: predId })));
    expect(answer).toMatchObject({ status: "revoked", enrollmentId: predId, cascadedEnrollmentIds: [succId] });
    await succ.closed;
    expect(dataJson(await manager.send(enrollLine("fetch", { enrollmentId: succId }))).status).toBe("revoked");
    const revokedAt = Date.parse(dataJson(await watcher.send("enroll:infons:wavi")).lastRevokedAt as string);
    expect(revokedAt).toBeGreaterThanOrEqual(started);
    expect(await watcher.send("enroll:infons:buzz")).toBe('data:{"lastRevokedAt":null}');
    const roster = JSON.parse((await watcher.send("enroll:listns:wavi")).slice(5)) as { enrollmentId: string }[];
    expect(roster.map((m) => m.enrollmentId)).not.toContain(predId);
    // The successor comes back only after what it replaced.
    expect(await manager.send(enrollLine("unrevoke", { enrollmentId: succId }))).toStartWith(`error:AT0011-Internal server exception : Cannot unrevoke enrollment ${succId}: the enrollment it replaced (${predId}) is revoked`);
    expect(dataJson(await manager.send(enrollLine("unrevoke", { enrollmentId: predId }))).status).toBe("approved");
    expect(dataJson(await manager.send(enrollLine("unrevoke", { enrollmentId: succId }))).status).toBe("approved");
    expect(await watcher.send("enroll:infons:wavi")).toBe('data:{"lastRevokedAt":null}');
  });
});

describe("the 3.15 tightening", () => {
  let plainId: string;
  let plain: WireClient;
  let star: WireClient;
  let starId: string;
  beforeAll(async () => {
    plainId = await enrollApp(f, manager, "plain", { wavi: "rw", buzz: "r" });
    plain = await connectApkam(f, plainId);
    starId = await enrollApp(f, manager, "star", { "*": "rw" });
    star = await connectApkam(f, starId);
  });
  afterAll(() => {
    plain?.close();
    star?.close();
  });

  test("otp:get needs __manage", async () => {
    expect(await plain.send("otp:get")).toStartWith("error:AT0009");
    expect(await star.send("otp:get")).toStartWith("error:AT0009");
    expect(await manager.send("otp:get")).toMatch(/^data:\S+$/);
  });

  test("enroll:fetch of another enrollment needs __manage and every namespace it holds", async () => {
    const keeperId = await enrollApp(f, manager, "keeper", { wavi: "rw", __manage: "r" });
    const keeper = await connectApkam(f, keeperId);
    const waviOnly = await enrollApp(f, manager, "waviOnly", { wavi: "r" });
    expect(dataJson(await keeper.send(enrollLine("fetch", { enrollmentId: waviOnly }))).namespace).toEqual({ wavi: "r" });
    expect(await keeper.send(enrollLine("fetch", { enrollmentId: plainId }))).toStartWith(`error:AT0009-UnAuthorized client in request : Enrollment ${keeperId} may not fetch enrollment ${plainId}`);
    expect(await star.send(enrollLine("fetch", { enrollmentId: plainId }))).toStartWith("error:AT0009");
    expect(dataJson(await plain.send(enrollLine("fetch", { enrollmentId: plainId }))).status).toBe("approved");
    keeper.close();
  });

  test("* does not reach another enrollment's per-enrollment namespace; its own is its own", async () => {
    expect(await plain.send(`update:note.${plainId}.a.__e@alice mine`)).toMatch(/^data:\d+$/);
    expect(await plain.send(`update:public:_apsk.${plainId}.a.__e@alice pub`)).toMatch(/^data:-?\d+$/);
    expect(await star.send(`llookup:note.${plainId}.a.__e@alice`)).toStartWith("error:AT0009");
    expect(await star.send(`update:note.${plainId}.r.__e@alice x`)).toStartWith("error:AT0009");
    expect(await star.send(`update:public:_apsk.${plainId}.a.__e@alice forged`)).toStartWith("error:AT0009");
    expect(await star.send(`delete:note.${plainId}.a.__e@alice`)).toStartWith("error:AT0009");
    expect(await manager.send(`llookup:note.${plainId}.a.__e@alice`)).toStartWith("error:AT0009");
    // Public keys stay readable.
    expect(await star.send(`plookup:_apsk.${plainId}.a.__e@alice`)).toBe("data:pub");
    expect(JSON.parse((await star.send("scan:showhidden:true")).slice(5))).not.toContain(`note.${plainId}.a.__e@alice`);
    expect(JSON.parse((await manager.send("scan:showhidden:true")).slice(5))).not.toContain(`note.${plainId}.a.__e@alice`);
    expect(await star.send(`update:note.${starId}.a.__e@alice own`)).toMatch(/^data:\d+$/);
    expect(await plain.send(`llookup:note.${plainId}.a.__e@alice`)).toBe("data:mine");
  });
});

describe("_apsk and the size caps", () => {
  /** A device request line with an OTP from the manager. */
  async function deviceRequest(app: string, extra: Record<string, unknown>, otp?: string): Promise<string> {
    const c = await f.connect();
    try {
      const params = { appName: app, deviceName: "phone", namespaces: { wavi: "r" }, otp: otp ?? (await manager.send("otp:get")).slice(5), apkamPublicKey: (await apkamKeys).publicKey, encryptedAPKAMSymmetricKey: "a2V5", ...extra };
      return await c.send(enrollLine("request", params));
    } finally {
      c.close();
    }
  }

  test("apsk is published as given, at approval, from the request (never from the approver)", async () => {
    const apsk = { v: 1, keys: [{ use: "sign", alg: "rsa2048", pub: "TUlJQg==", status: "active" }] };
    const id = dataJson(await deviceRequest("apsker", { apsk })).enrollmentId as string;
    expect(await manager.send(`plookup:_apsk.${id}.a.__e@alice`)).toStartWith("error:AT0015");
    const approve = { enrollmentId: id, encryptedDefaultEncryptionPrivateKey: "ZW5j", encryptedDefaultSelfEncryptionKey: "c2VsZg==", apsk: { v: 9 } };
    expect(dataJson(await manager.send(enrollLine("approve", approve))).status).toBe("approved");
    expect(await manager.send(`plookup:_apsk.${id}.a.__e@alice`)).toBe(`data:${JSON.stringify(apsk)}`);
    const legacy = dataJson(await deviceRequest("legacyapsk", { apskLegacy: "MIIBIjANlegacy" })).enrollmentId as string;
    expect(dataJson(await manager.send(enrollLine("approve", { ...approve, enrollmentId: legacy }))).status).toBe("approved");
    expect(await manager.send(`plookup:_apsk.${legacy}.a.__e@alice`)).toBe("data:MIIBIjANlegacy");
    // No apsk, nothing published.
    const none = await enrollApp(f, manager, "noapsk", { wavi: "r" });
    expect(await manager.send(`plookup:_apsk.${none}.a.__e@alice`)).toStartWith("error:AT0015");
  });

  test("an apsk over 20 KB is refused before the OTP is spent", async () => {
    const otp = (await manager.send("otp:get")).slice(5);
    expect(await deviceRequest("fat", { apsk: { pad: "x".repeat(20 * 1024) } }, otp)).toStartWith("error:AT0022-Exception: apsk is");
    expect(await deviceRequest("fat", { apsk: { v: 1 }, apskLegacy: "x" }, otp)).toStartWith("error:AT0022-Exception: apsk and apskLegacy are mutually exclusive");
    expect(dataJson(await deviceRequest("fat", { apsk: { pad: "x".repeat(19 * 1024) } }, otp)).status).toBe("pending");
  });

  test("a record over 500 KB is refused (an authenticated request: unauthenticated lines stop at 64 KB)", async () => {
    expect(await selfEnroll(manager, "manager", "fat", { metadata: { pad: "x".repeat(500 * 1024) } })).toStartWith("error:AT0022-Illegal arguments : enrollment record is");
    expect(dataJson(await selfEnroll(manager, "manager", "fat", { metadata: { pad: "x".repeat(400 * 1024) } })).status).toBe("approved");
  });
});

describe("a fresh @sign: APKAM-only verbs, and rotating the onboarding enrollment's key", () => {
  let g: ServerFixture;
  beforeAll(async () => {
    g = await startServerFixture();
  });
  afterAll(async () => {
    await g?.stop();
  });

  test("listns and infons need an APKAM connection", async () => {
    const cram = await g.connectOwner();
    expect(await cram.send("enroll:listns:wavi")).toBe("error:AT0401-Client authentication failed : enroll:listns requires APKAM authentication");
    expect(await cram.send("enroll:infons:wavi")).toStartWith("error:AT0401");
    cram.close();
  });

  test("retires the old key on the legacy pkam: path too", async () => {
    const id = await onboardManager(g);
    const fresh = await generatePkamKeyPair("ed25519");
    const c = await connectApkam(g, id);
    expect(dataJson(await c.send(rotation(id, fresh))).status).toBe("approved");
    c.close();
    const [viaOld, viaNew] = [await g.connect(), await g.connect()];
    expect(await pkamWith(viaOld, undefined, await apkamKeys, g.atSign)).toStartWith("error:AT0401");
    expect(await pkamWith(viaNew, undefined, fresh, g.atSign)).toBe("data:success");
    viaOld.close();
    // The only root enrollment may not revoke itself, even with force: nothing could approve a replacement.
    expect(await viaNew.send(enrollLine("revoke", { enrollmentId: id }, true))).toStartWith(`error:AT0011-Internal server exception : Cannot revoke enrollment ${id}: it is the last enrollment holding * and __manage`);
    expect(dataJson(await viaNew.send(enrollLine("fetch", { enrollmentId: id }))).status).toBe("approved");
    viaNew.close();
  });
});

describe("the SDK sends the new forms", () => {
  test("rotateApkamKey keeps the enrollment id; the old keys no longer open a session; listns and infons", async () => {
    const id = await enrollApp(f, manager, "sdkapp", { sdk: "rw" });
    const { publicKey, privateKey } = await apkamKeys;
    const keys: AtKeys = { atSign: "@alice", pkamAlgo: "ed25519", pkamPublicKey: publicKey, pkamPrivateKey: privateKey, encryptionPublicKey: "", encryptionPrivateKey: "", selfEncryptionKey: "", enrollmentId: id };
    const net = { directory: "127.0.0.1:1", address: { host: "127.0.0.1", port: f.server.port }, ca: [f.ca] };
    const before = AtClient.fromKeys(keys, net);
    expect((await namespaceMembers(before, "sdk")).map((m) => [m.enrollmentId, m.access])).toContainEqual([id, "rw"]);
    expect(await namespaceLastRevokedAt(before, "sdk")).toBeNull();
    const rotated = await rotateApkamKey(before);
    before.close();
    expect(rotated).toMatchObject({ enrollmentId: id, pkamAlgo: "ed25519" });
    expect(rotated.pkamPublicKey).not.toBe(publicKey);
    const after = AtClient.fromKeys(rotated, net);
    await after.authenticate();
    expect(dataJson(await manager.send(enrollLine("fetch", { enrollmentId: id }))).status).toBe("approved");
    after.close();
    const stale = AtClient.fromKeys(keys, net);
    await expect(stale.authenticate()).rejects.toThrow(AtAuthError);
    stale.close();
  });
});
