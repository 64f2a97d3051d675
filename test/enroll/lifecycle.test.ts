/**
 * The whole APKAM story across two devices on a real stack (directory + atServer): a manager device onboards,
 * issues an OTP; a new device requests `wavi:rw, buzz:r`, waits, is approved, receives the default keys and
 * reads the manager's encrypted data in its namespaces only; revoke cuts its live session and unrevoke
 * restores it; a denied request ends with a clear error. The same flow through the CLI as separate processes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { writeAtKeysFile, type AtKeys } from "../../core/crypto/index.ts";
import { AtClient, AtAuthError, AtClientError } from "../../client/index.ts";
import { approveEnrollment, decideEnrollment, listEnrollments, newOtp } from "../../client/enroll/manage_enrollments.ts";
import { requestEnrollment, type EnrollmentRequest } from "../../client/enroll/request_enrollment.ts";
import { startStack, type Stack } from "../harness.ts";
import { cliEnv, runClientCli, spawnClientCli } from "../client_cli.ts";

let stack: Stack;
let manager: AtClient;
let managerKeys: string;
let directory: { host: string; port: number };

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@alice"] });
  directory = { host: stack.directory.host, port: stack.directory.port };
  managerKeys = join(stack.home, "manager.atKeys");
  ({ client: manager } = await AtClient.onboard("@alice", stack.servers.get("@alice")!.cramSecret, { directory, ca: [stack.ca], keysFile: managerKeys }));
  await manager.put("phone.wavi", "+1-555");
  await manager.put("note.buzz", "buzz note");
  await manager.put("diary.other", "private");
});
afterAll(async () => {
  manager?.close();
  await stack?.stop();
});

async function deviceRequest(app: string, namespaces: EnrollmentRequest["namespaces"], progress: string[] = []): Promise<AtKeys> {
  return requestEnrollment({
    atSign: "@alice",
    address: { host: "127.0.0.1", port: stack.servers.get("@alice")!.port },
    ca: [stack.ca],
    appName: app,
    deviceName: "phone",
    namespaces,
    otp: await newOtp(manager),
    pollIntervalMs: 50,
    waitMs: 20_000,
    onProgress: (m) => progress.push(m),
  });
}

/** Waits (bounded) for the pending request of `app` to show up on the manager and returns its id. */
async function pendingId(app: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const found = (await listEnrollments(manager, ["pending"])).find((e) => e.appName === app);
    if (found) return found.enrollmentId;
    await Bun.sleep(50);
  }
  throw new Error(`no pending request for ${app}`);
}

describe("two devices (SDK)", () => {
  let device: AtClient;
  let keys: AtKeys;

  test("request, approval, default keys, .atKeys", async () => {
    const progress: string[] = [];
    const waiting = deviceRequest("wavi", { wavi: "rw", buzz: "r" }, progress);
    const id = await pendingId("wavi");
    expect((await approveEnrollment(manager, id)).status).toBe("approved");
    keys = await waiting;
    expect(keys.enrollmentId).toBe(id);
    expect(keys.encryptionPrivateKey).toBe(manager.keys.encryptionPrivateKey);
    expect(keys.selfEncryptionKey).toBe(manager.keys.selfEncryptionKey);
    expect(keys.pkamPublicKey).not.toBe(manager.keys.pkamPublicKey);
    expect(progress.join("\n")).toContain("approved");
    const file = join(stack.home, "wavi.atKeys");
    await writeAtKeysFile(keys, file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    device = await AtClient.open({ keysFile: file, directory, ca: [stack.ca] });
  });

  test("the app reads and writes its namespaces and gets AT0009 outside them", async () => {
    expect((await device.get("phone.wavi")).value).toBe("+1-555");
    await device.put("status.wavi", "online");
    expect((await manager.get("status.wavi")).value).toBe("online");
    expect((await device.get("note.buzz")).value).toBe("buzz note");
    await expect(device.put("note.buzz", "changed")).rejects.toMatchObject({ code: "AT0009" });
    await expect(device.get("diary.other")).rejects.toMatchObject({ code: "AT0009" });
    const visible = await device.scan();
    expect(visible).toContain("phone.wavi@alice");
    expect(visible).not.toContain("diary.other@alice");
  });

  test("revoke cuts the live session and the key stops working; unrevoke restores", async () => {
    expect(await decideEnrollment(manager, "revoke", keys.enrollmentId!)).toBe("revoked");
    const err = await device.get("phone.wavi").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AtAuthError);
    expect((err as AtClientError).code).toBe("AT0027");
    expect(await decideEnrollment(manager, "unrevoke", keys.enrollmentId!)).toBe("approved");
    expect((await device.get("phone.wavi")).value).toBe("+1-555");
    device.close();
  });

  test("a denied request ends with a clear error", async () => {
    const waiting = deviceRequest("denied", { wavi: "r" }).catch((e: unknown) => e);
    const id = await pendingId("denied");
    expect(await decideEnrollment(manager, "deny", id)).toBe("denied");
    const err = await waiting;
    expect(err).toBeInstanceOf(AtAuthError);
    expect((err as Error).message).toContain("was denied");
  });
});

describe("CLI", () => {
  const env = () => cliEnv(stack, { INLAY_DIRECTORY: `${directory.host}:${directory.port}` });
  const spawn = (args: string[]) => spawnClientCli(args, env());
  const run = (args: string[]) => runClientCli(args, env());

  test("otp, enroll request (waits), enroll list/approve, then the app's keys work", async () => {
    const otp = await run(["otp", "--keys", managerKeys]);
    expect(otp.code).toBe(0);
    const code = otp.out.trim();
    expect(code).toMatch(/^[A-NP-Z1-9]{6}$/);
    const appKeys = join(stack.home, "buzz.atKeys");
    const device = spawn(["enroll", "request", "--as", "@alice", "--app", "buzz", "--device", "tablet", "--ns", "buzz:rw", "--otp", code, "--keys", appKeys, "--wait", "30"]);
    let id = "";
    const deadline = Date.now() + 20_000;
    while (!id && Date.now() < deadline) {
      const list = await run(["enroll", "list", "--status", "pending", "--json", "--keys", managerKeys]);
      expect(list.code).toBe(0);
      id = (JSON.parse(list.out) as { enrollmentId: string; appName: string }[]).find((e) => e.appName === "buzz")?.enrollmentId ?? "";
      if (!id) await Bun.sleep(100);
    }
    expect(id).not.toBe("");
    const approve = await run(["enroll", "approve", id, "--keys", managerKeys]);
    expect({ code: approve.code, err: approve.err }).toEqual({ code: 0, err: "" });
    const [out, err, exit] = await Promise.all([new Response(device.stdout).text(), new Response(device.stderr).text(), device.exited]);
    expect({ exit, err }).toMatchObject({ exit: 0 });
    expect(err).toContain("pending");
    expect(out).toContain(`keys written to ${appKeys}`);
    const get = await run(["get", "note.buzz", "--keys", appKeys]);
    expect({ code: get.code, out: get.out }).toEqual({ code: 0, out: "buzz note" });
    const outside = await run(["get", "phone.wavi", "--keys", appKeys]);
    expect(outside.code).not.toBe(0);
    expect(outside.err).toContain("AT0009");
    const listed = await run(["enroll", "list", "--keys", managerKeys]);
    expect(listed.out).toContain(`${id}  approved  buzz/tablet  buzz:rw`);
    const spp = await run(["otp", "--spp", "Family_2026", "--keys", managerKeys]);
    expect({ code: spp.code, out: spp.out }).toEqual({ code: 0, out: "Semi-permanent passcode set\n" });
  });

  test("enroll request without --otp is a usage error (exit 2)", async () => {
    const r = await run(["enroll", "request", "--as", "@alice", "--app", "a", "--device", "d", "--ns", "a:r"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--otp");
  });
});
