/**
 * Enrollment and monitors: a manager's monitor (selfNotifications) is told about a new request (§6.3), and
 * revoking the monitor's enrollment cuts that live monitor; unrevoke lets it monitor again.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startServerFixture, type ServerFixture } from "../server_fixture.ts";
import type { WireClient } from "../wire_client.ts";
import { connectApkam, dataJson, enrollApp, enrollLine, onboardManager, requestWithOtp } from "./wire_enroll.ts";

let f: ServerFixture;
let manager: WireClient;

beforeAll(async () => {
  f = await startServerFixture();
  manager = await connectApkam(f, await onboardManager(f));
});
afterAll(async () => {
  manager?.close();
  await f?.stop();
});

/** A connection of `enrollmentId` that ran `monitor:selfNotifications` (noop answered = monitor attached). */
async function monitorOf(enrollmentId: string): Promise<WireClient> {
  const m = await connectApkam(f, enrollmentId);
  m.raw("monitor:selfNotifications\n");
  expect(await m.send("noop:0")).toBe("data:ok");
  return m;
}

test("a pending request reaches the manager's monitor; revoke cuts the monitor; unrevoke restores", async () => {
  const watcherId = await enrollApp(f, manager, "watcher", { __manage: "rw", "*": "rw" });
  const monitor = await monitorOf(watcherId);

  const requestId = await requestWithOtp(f, manager, "newapp", { wavi: "rw" });
  const received = await monitor.until((r) => r.includes(`"key":"${requestId}.new.enrollments.__manage@alice"`));
  const line = received.split("\n").find((l) => l.includes(requestId))!;
  const notification = JSON.parse(line.slice(line.indexOf("{"))) as { value: string; from: string; to: string };
  expect({ from: notification.from, to: notification.to }).toEqual({ from: "@alice", to: "@alice" });
  expect(JSON.parse(notification.value)).toMatchObject({ appName: "newapp", deviceName: "phone", namespace: { wavi: "rw" }, encryptedAPKAMSymmetricKey: "a2V5" });

  expect(dataJson(await manager.send(enrollLine("revoke", { enrollmentId: watcherId }))).status).toBe("revoked");
  await monitor.closed;
  expect(dataJson(await manager.send(enrollLine("unrevoke", { enrollmentId: watcherId }))).status).toBe("approved");
  const again = await monitorOf(watcherId);
  again.close();
});

test("an app enrolled for wavi monitors, lists, fetches and asks the status of wavi notifications only", async () => {
  const appId = await enrollApp(f, manager, "waviapp", { wavi: "rw" });
  const app = await connectApkam(f, appId);
  app.raw("monitor\n");
  expect(await app.send("noop:0")).toBe("data:ok");
  const all = await connectApkam(f, await enrollApp(f, manager, "everything", { "*": "r" }));
  all.raw("monitor\n");
  expect(await all.send("noop:0")).toBe("data:ok");
  try {
    const buzzId = (await manager.send("notify:id:ns-buzz:@alice:phone.buzz@alice:not for wavi")).slice(5);
    const waviId = (await manager.send("notify:id:ns-wavi:@alice:phone.wavi@alice:for wavi")).slice(5);
    // Stats notifications (after any write) go to every monitor; they name no key of anyone's data.
    const keysIn = (text: string) => [...text.matchAll(/"key":"([^"]+)"/g)].map((m) => m[1]).filter((k) => !k!.startsWith("statsNotification."));
    // Both reach the `*` app in order; once the later one has reached the wavi app, so would have the earlier.
    expect(keysIn(await all.until((r) => r.includes('"key":"@alice:phone.wavi@alice"')))).toEqual(["@alice:phone.buzz@alice", "@alice:phone.wavi@alice"]);
    expect(keysIn(await app.until((r) => r.includes('"key":"@alice:phone.wavi@alice"')))).toEqual(["@alice:phone.wavi@alice"]);

    const listed = JSON.parse((await app.send("notify:list:phone")).slice(5)) as { id: string }[];
    expect(listed.map((n) => n.id)).toEqual([waviId]);
    expect(await app.send(`notify:status:${waviId}`)).toBe("data:delivered");
    expect(await app.send(`notify:status:${buzzId}`)).toBe("data:null");
    expect(dataJson(await app.send(`notify:fetch:${waviId}`))).toMatchObject({ id: waviId, notification: "@alice:phone.wavi@alice" });
    expect(dataJson(await app.send(`notify:fetch:${buzzId}`))).toMatchObject({ id: buzzId, notificationStatus: "NotificationStatus.expired" });
    expect(JSON.stringify(dataJson(await app.send(`notify:fetch:${buzzId}`)))).not.toContain("phone.buzz");

    // A replay follows the same rule (it goes out in store order: buzz, had it passed, before wavi).
    const replay = await connectApkam(f, appId);
    replay.raw("monitor:0\n");
    expect(await replay.until((r) => r.includes('"key":"@alice:phone.wavi@alice"'))).not.toContain("phone.buzz");
    replay.close();
  } finally {
    app.close();
    all.close();
  }
});
