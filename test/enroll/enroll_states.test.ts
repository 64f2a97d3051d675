/**
 * The enrollment state machine over real TLS (ATPROTOCOL.md §4.2, §8): onboarding through enroll:request on
 * CRAM, OTP rules (single use, replay refused, back-off, request rate), pkam per status (AT0025/26/27/28,
 * form C), approve/deny/revoke/unrevoke/delete answers and errors, list filters, pending expiry, and revoke
 * closing a live connection of the enrollment.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startServerFixture, type ServerFixture } from "../server_fixture.ts";
import type { WireClient } from "../wire_client.ts";
import { apkamAuth, connectApkam, dataJson, enrollApp, enrollLine, onboardManager, requestWithOtp } from "./wire_enroll.ts";

let f: ServerFixture;
let managerId: string;
let manager: WireClient;

beforeAll(async () => {
  f = await startServerFixture({ extra: { enrollment: { pendingLifetimeMs: 3_000, otpFailureDelayBaseMs: 10, otpFailureDelayMaxMs: 50 } } });
  managerId = await onboardManager(f);
  manager = await connectApkam(f, managerId);
});
afterAll(async () => {
  manager?.close();
  await f?.stop();
});

describe("onboarding through enroll:request", () => {
  test("the CRAM enrollment is approved with __manage and *, and CRAM is then refused", async () => {
    const json = dataJson(await manager.send(enrollLine("fetch", { enrollmentId: managerId })));
    expect(json).toMatchObject({ appName: "manager", deviceName: "laptop", status: "approved", namespace: { __manage: "rw", "*": "rw" } });
    const c = await f.connect();
    const challenge = (await c.send(`from:${f.atSign}`)).slice(5);
    expect(challenge.length).toBeGreaterThan(0);
    expect(await c.send(`cram:${"0".repeat(128)}`)).toStartWith("error:AT0401");
    c.close();
  });
});

describe("otp", () => {
  test("otp:get gives 6 characters without 0 or O and with a digit; each works once", async () => {
    for (let i = 0; i < 20; i++) {
      const otp = (await manager.send("otp:get")).slice(5);
      expect(otp).toMatch(/^[A-NP-Z1-9]{6}$/);
      expect(otp).toMatch(/\d/);
    }
    const otp = (await manager.send("otp:get")).slice(5);
    const device = await f.connect();
    const params = { appName: "replay", deviceName: "d1", namespaces: { wavi: "r" }, otp: otp.toLowerCase(), apkamPublicKey: "k", encryptedAPKAMSymmetricKey: "a2V5" };
    expect(dataJson(await device.send(enrollLine("request", params))).status).toBe("pending");
    // The same OTP again (another device name, so only the OTP can be the reason).
    expect(await device.send(enrollLine("request", { ...params, deviceName: "d2" }))).toBe("error:AT0011-Exception: invalid otp. Cannot process enroll request");
    expect(device.isClosed()).toBe(false);
    device.close();
  });

  test("an SPP works repeatedly until replaced; otp:ttl out of range is AT0022", async () => {
    expect(await manager.send("otp:put:Spp_Code_42")).toBe("data:ok");
    const c = await f.connect();
    for (const device of ["s1", "s2"]) {
      const r = dataJson(await c.send(enrollLine("request", { appName: "spp", deviceName: device, namespaces: { wavi: "r" }, otp: "spp_code_42", apkamPublicKey: "k", encryptedAPKAMSymmetricKey: "a2V5" })));
      expect(r.status).toBe("pending");
    }
    c.close();
    expect(await manager.send("otp:get:ttl:0")).toStartWith("error:AT0022");
    expect(await manager.send(`otp:get:ttl:${25 * 3_600_000}`)).toStartWith("error:AT0022");
  });

  test("at most 5 enroll:request per connection per hour", async () => {
    const c = await f.connect();
    const bad = enrollLine("request", { appName: "rate", deviceName: "d", namespaces: { wavi: "r" }, otp: "WRONG1", apkamPublicKey: "k", encryptedAPKAMSymmetricKey: "a2V5" });
    for (let i = 0; i < 5; i++) expect(await c.send(bad)).toStartWith("error:AT0011");
    expect(await c.send(bad)).toStartWith("error:AT0028:Too many enrollment requests");
    c.close();
  });

  test("requests without the required fields are AT0022", async () => {
    const c = await f.connect();
    expect(await c.send(enrollLine("request", { deviceName: "d", otp: "X" }))).toStartWith("error:AT0022-Exception: appName is required");
    expect(await c.send(enrollLine("request", { appName: "a", deviceName: "d", apkamPublicKey: "k", namespaces: { wavi: "x" } }))).toStartWith("error:AT0022");
    c.close();
  });
});

describe("state machine", () => {
  test("pkam answers per status in form C; approve, deny, revoke, unrevoke, delete", async () => {
    const id = await requestWithOtp(f, manager, "states", { wavi: "rw" });
    const device = await f.connect();
    expect(await apkamAuth(device, f.atSign, id)).toBe(`error:AT0026:enrollment_id: ${id} is pending`);
    expect(await manager.send(enrollLine("revoke", { enrollmentId: id }))).toStartWith("error:AT0011");
    expect(await manager.send(enrollLine("deny", { enrollmentId: id }))).toBe(`data:{"status":"denied","enrollmentId":"${id}"}`);
    expect(await apkamAuth(device, f.atSign, id)).toBe(`error:AT0025:enrollment_id: ${id} is denied`);
    expect(await manager.send(enrollLine("approve", { enrollmentId: id, encryptedDefaultEncryptionPrivateKey: "a", encryptedDefaultSelfEncryptionKey: "b" }))).toStartWith("error:AT0011");
    expect(await manager.send(enrollLine("delete", { enrollmentId: id }))).toBe(`data:{"enrollmentId":"${id}","status":"deleted"}`);
    expect(await apkamAuth(device, f.atSign, id)).toBe(`error:AT0028:enrollment_id: ${id} is expired or invalid`);
    expect(await manager.send(enrollLine("fetch", { enrollmentId: id }))).toBe(`error:AT0028:enrollment_id: ${id} is expired or invalid`);
    device.close();

    const app = await enrollApp(f, manager, "states2", { wavi: "rw" });
    expect(await manager.send(enrollLine("delete", { enrollmentId: app }))).toStartWith("error:AT0011");
    expect(await manager.send(enrollLine("revoke", { enrollmentId: app }))).toBe(`data:{"status":"revoked","enrollmentId":"${app}"}`);
    const d2 = await f.connect();
    expect(await apkamAuth(d2, f.atSign, app)).toBe(`error:AT0027:enrollment_id: ${app} is revoked`);
    expect(await manager.send(enrollLine("unrevoke", { enrollmentId: app }))).toBe(`data:{"status":"approved","enrollmentId":"${app}"}`);
    expect(await apkamAuth(d2, f.atSign, app)).toBe("data:success");
    d2.close();
  });

  test("own enrollment needs revoke:force (AT0031); unknown ids are AT0028; missing ids AT0022", async () => {
    expect(await manager.send(enrollLine("revoke", { enrollmentId: managerId }))).toStartWith("error:AT0031");
    expect(await manager.send(enrollLine("approve", { enrollmentId: "no-such-id", encryptedDefaultEncryptionPrivateKey: "a", encryptedDefaultSelfEncryptionKey: "b" }))).toBe(
      "error:AT0028:enrollment_id: no-such-id is expired or invalid",
    );
    expect(await manager.send(enrollLine("deny", { enrollmentId: "../x@bob" }))).toStartWith("error:AT0028");
    expect(await manager.send(enrollLine("deny", {}))).toStartWith("error:AT0022");
  });

  test("list shows every enrollment with its status and filters by status", async () => {
    const all = dataJson(await manager.send("enroll:list"));
    expect(all[`${managerId}.new.enrollments.__manage${f.atSign}`]).toMatchObject({ appName: "manager", status: "approved" });
    const denied = dataJson(await manager.send(enrollLine("list", { enrollmentStatusFilter: ["pending"] })));
    expect(Object.values(denied).every((e) => (e as { status: string }).status === "pending")).toBe(true);
    expect(Object.keys(denied).length).toBeGreaterThan(0);
  });

  test("a pending request expires (configured lifetime): AT0028 on fetch and pkam", async () => {
    const id = await requestWithOtp(f, manager, "expiring", { wavi: "r" });
    const deadline = Date.now() + 10_000;
    let answer = "";
    while (Date.now() < deadline) {
      answer = await manager.send(enrollLine("fetch", { enrollmentId: id }));
      if (answer.startsWith("error:")) break;
      await Bun.sleep(100);
    }
    expect(answer).toBe(`error:AT0028:enrollment_id: ${id} is expired or invalid`);
    const c = await f.connect();
    expect(await apkamAuth(c, f.atSign, id)).toStartWith("error:AT0028");
    c.close();
  });
});

describe("more request rules", () => {
  test("a second request for the same app and device while one is pending is AT0011", async () => {
    await requestWithOtp(f, manager, "dup", { wavi: "r" });
    await expect(requestWithOtp(f, manager, "dup", { wavi: "r" })).rejects.toThrow("AT0011");
  });

  test("apkamKeysExpiryInMillis: the approved keys expire; the next command on a live connection is AT0028 and closes", async () => {
    const id = await requestWithOtp(f, manager, "shortlived", { wavi: "rw" });
    const approve = { enrollmentId: id, encryptedDefaultEncryptionPrivateKey: "a", encryptedDefaultSelfEncryptionKey: "b", apkamKeysExpiryInMillis: 400 };
    expect(dataJson(await manager.send(enrollLine("approve", approve))).status).toBe("approved");
    const c = await connectApkam(f, id);
    let answer = "";
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !c.isClosed()) {
      answer = await c.send("scan", [`${f.atSign}@`, "@"]).catch(() => answer);
      if (answer.startsWith("error:")) break;
      await Bun.sleep(50);
    }
    // "expired", or "expired or invalid" once the expiry sweeper removed the record.
    expect(answer).toStartWith(`error:AT0028:enrollment_id: ${id} is expired`);
    await c.closed;
  });
});

describe("revocation reaches live sessions", () => {
  test("revoke closes the enrollment's open connections; its key no longer authenticates; unrevoke restores", async () => {
    const id = await enrollApp(f, manager, "live", { wavi: "rw" });
    const live = [await connectApkam(f, id), await connectApkam(f, id)];
    expect(await live[0]!.send("update:x.wavi@alice 1")).toMatch(/^data:\d+$/);
    // The revoke handler closes the sockets before it answers, so no sleep or timing bound is needed here.
    expect(dataJson(await manager.send(enrollLine("revoke", { enrollmentId: id }))).status).toBe("revoked");
    await Promise.all(live.map((c) => c.closed));
    const again = await f.connect();
    expect(await apkamAuth(again, f.atSign, id)).toStartWith("error:AT0027");
    expect(dataJson(await manager.send(enrollLine("unrevoke", { enrollmentId: id }))).status).toBe("approved");
    expect(await apkamAuth(again, f.atSign, id)).toBe("data:success");
    expect(await again.send("llookup:x.wavi@alice")).toBe("data:1");
    again.close();
  });

  test("revoke:force of the own enrollment answers, then closes this connection", async () => {
    const id = await enrollApp(f, manager, "selfrevoke", { __manage: "rw", "*": "rw" });
    const c = await connectApkam(f, id);
    const answer = dataJson(await c.send(enrollLine("revoke", { enrollmentId: id }, true)));
    expect(answer).toMatchObject({ status: "revoked", enrollmentId: id });
    await c.closed;
  });
});

describe("the onboarding key on the legacy path", () => {
  test("pkam without an enrollment id is bound to the onboarding enrollment; revoking it ends that path too", async () => {
    const legacy = await f.connect();
    expect(await apkamAuth(legacy, f.atSign, undefined)).toBe("data:success");
    // Bound to the enrollment: revoking it needs force, as for the enrollment's own connections.
    expect(await legacy.send(enrollLine("revoke", { enrollmentId: managerId }))).toStartWith("error:AT0031");
    const other = await enrollApp(f, manager, "keeper", { __manage: "rw", "*": "rw" });
    const keeper = await connectApkam(f, other);
    expect(dataJson(await keeper.send(enrollLine("revoke", { enrollmentId: managerId }))).status).toBe("revoked");
    await Promise.all([legacy.closed, manager.closed]);
    const again = await f.connect();
    expect(await apkamAuth(again, f.atSign, undefined)).toBe(`error:AT0027:enrollment_id: ${managerId} is revoked`);
    expect(dataJson(await keeper.send(enrollLine("delete", { enrollmentId: managerId }))).status).toBe("deleted");
    expect(await apkamAuth(again, f.atSign, undefined)).toStartWith("error:AT0028");
    again.close();
    keeper.close();
  });
});
