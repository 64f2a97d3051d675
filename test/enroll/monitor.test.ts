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
