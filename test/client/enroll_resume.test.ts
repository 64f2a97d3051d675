/**
 * `enroll request` can be resumed: a request still pending when --wait runs out (or on Ctrl-C) is kept in
 * `<keys>.pending` (0600) and the same command picks it up after approval, without a new OTP; a denied request
 * ends the pending file; an expired one is forgotten. Regression: the rerun used to send a new request with the
 * spent OTP (`invalid otp`), and the approved enrollment's keys were lost.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { AtClient } from "../../client/index.ts";
import { decideEnrollment, approveEnrollment, listEnrollments, newOtp } from "../../client/enroll/manage_enrollments.ts";
import { loadPending, pendingFileOf, savePending } from "../../client/enroll/pending_request.ts";
import { startStack, type Stack } from "../harness.ts";
import { cliEnv, runClientCli, spawnClientCli } from "../client_cli.ts";

/** Bound on waiting for a request to show up as pending, or for a CLI line. */
const WAIT_MS = 20_000;

let stack: Stack;
let manager: AtClient;

beforeAll(async () => {
  stack = await startStack({ atSigns: ["@alice"] });
  const directory = { host: stack.directory.host, port: stack.directory.port };
  ({ client: manager } = await AtClient.onboard("@alice", stack.servers.get("@alice")!.cramSecret, { directory, ca: [stack.ca], keysFile: join(stack.home, "manager.atKeys") }));
  await manager.put("note.buzz", "buzz note");
});
afterAll(async () => {
  manager?.close();
  await stack?.stop();
});

const env = () => cliEnv(stack, { INLAY_DIRECTORY: `${stack.directory.host}:${stack.directory.port}` });
const requestArgs = (app: string, keys: string, extra: string[]) => ["enroll", "request", "--as", "@alice", "--app", app, "--device", "tablet", "--ns", "buzz:rw", "--keys", keys, ...extra];

async function pendingId(app: string): Promise<string> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const found = (await listEnrollments(manager, ["pending"])).find((e) => e.appName === app);
    if (found) return found.enrollmentId;
    await Bun.sleep(50);
  }
  throw new Error(`no pending request for ${app}`);
}

describe("enroll request", () => {
  test("still pending after --wait: kept (0600); approved, the same command without --otp completes it", async () => {
    const keys = join(stack.home, "resume.atKeys");
    const first = await runClientCli(requestArgs("resume", keys, ["--otp", await newOtp(manager), "--wait", "1"]), env());
    expect(first.code).toBe(3);
    expect(first.err).toContain("run the same command again");
    expect(statSync(pendingFileOf(keys)).mode & 0o777).toBe(0o600);
    const id = await pendingId("resume");
    expect(loadPending(keys)?.enrollmentId).toBe(id);

    await approveEnrollment(manager, id);
    const again = await runClientCli(requestArgs("resume", keys, ["--wait", "20"]), env());
    expect({ code: again.code, out: again.out }).toEqual({ code: 0, out: `Enrolled resume on tablet for @alice (enrollment ${id}); keys written to ${keys}\n` });
    expect(again.err).toContain(`Resuming enrollment ${id}`);
    expect(existsSync(pendingFileOf(keys))).toBe(false);
    const get = await runClientCli(["get", "note.buzz", "--keys", keys], env());
    expect({ code: get.code, out: get.out }).toEqual({ code: 0, out: "buzz note" });
  });

  test("Ctrl-C says how to resume and keeps the request", async () => {
    const keys = join(stack.home, "interrupt.atKeys");
    const proc = spawnClientCli(requestArgs("interrupt", keys, ["--otp", await newOtp(manager), "--wait", "60"]), env());
    await pendingId("interrupt");
    // The pending file is written before the request is announced on stderr; wait for it, not for time.
    const deadline = Date.now() + WAIT_MS;
    while (!existsSync(pendingFileOf(keys)) && Date.now() < deadline) await Bun.sleep(20);
    proc.kill("SIGINT");
    const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(code).toBe(130);
    expect(err).toContain("still pending and kept in");
    expect(err).toContain("run the same command again");
    expect(existsSync(pendingFileOf(keys))).toBe(true);
  });

  test("a denied request ends the pending file; the next run needs a new OTP", async () => {
    const keys = join(stack.home, "denied.atKeys");
    expect((await runClientCli(requestArgs("denied", keys, ["--otp", await newOtp(manager), "--wait", "1"]), env())).code).toBe(3);
    await decideEnrollment(manager, "deny", await pendingId("denied"));
    const again = await runClientCli(requestArgs("denied", keys, ["--wait", "20"]), env());
    expect(again.code).toBe(3);
    expect(again.err).toContain("was denied");
    expect(existsSync(pendingFileOf(keys))).toBe(false);
    const fresh = await runClientCli(requestArgs("denied", keys, ["--wait", "1"]), env());
    expect(fresh.code).toBe(2);
    expect(fresh.err).toContain("--otp");
  });

  test("a pending file past the reference's 48 h lifetime is forgotten", async () => {
    const keys = join(stack.home, "old.atKeys");
    const sent = { enrollmentId: "e1", keys: { atSign: "@alice", pkamAlgo: "rsa2048" as const, pkamPublicKey: "p", pkamPrivateKey: "k", encryptionPublicKey: "e", apkamSymmetricKey: "s", enrollmentId: "e1" } };
    await savePending(keys, { appName: "old", deviceName: "tablet", namespaces: { buzz: "rw" } }, sent, 0);
    expect(loadPending(keys, 48 * 3_600_000 - 1)?.enrollmentId).toBe("e1");
    expect(loadPending(keys, 48 * 3_600_000)).toBeNull();
    expect(existsSync(pendingFileOf(keys))).toBe(false);
  });
});
