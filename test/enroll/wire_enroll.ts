/**
 * Wire-level helpers for the enrollment tests: onboarding through `enroll:request` on a CRAM connection,
 * APKAM authentication (`pkam:...:enrollmentId:<id>`), and a device request approved by a manager.
 * Ed25519 APKAM keys keep key generation out of the test time.
 */
import { generatePkamKeyPair, signPkam, type KeyPairText } from "../../core/crypto/index.ts";
import { buildCommand } from "../../core/verbs/index.ts";
import { startServerFixture, type ServerFixture } from "../server_fixture.ts";
import type { WireClient } from "../wire_client.ts";

/** One Ed25519 key pair used as the APKAM key of every enrollment in a test file. */
export const apkamKeys: Promise<KeyPairText> = generatePkamKeyPair("ed25519");

/** The JSON after `data:`, or throws with the whole answer. */
export function dataJson(answer: string): Record<string, unknown> {
  if (!answer.startsWith("data:")) throw new Error(`expected data:, got ${answer}`);
  return JSON.parse(answer.slice(5)) as Record<string, unknown>;
}

/** Sends an enroll line built from its parts. */
export function enrollLine(operation: string, params?: Record<string, unknown>, force = false): string {
  return `enroll:${operation}${force ? ":force" : ""}${params ? `:${JSON.stringify(params)}` : ""}`;
}

/**
 * `from:` + `pkam:` with an enrollment id (none: the legacy form); resolves with the pkam answer (prompt
 * adjusted on success).
 */
export async function apkamAuth(c: WireClient, atSign: string, enrollmentId: string | undefined): Promise<string> {
  const { privateKey } = await apkamKeys;
  const challenge = (await c.send(`from:${atSign}`)).replace(/^data:/, "");
  const signature = signPkam(challenge, { algo: "ed25519", privateKey });
  const answer = await c.send(buildCommand({ verb: "pkam", signingAlgo: "ed25519", ...(enrollmentId ? { enrollmentId } : {}), signature }), [`${atSign}@`, "@"]);
  if (answer === "data:success") c.prompt = `${atSign}@`;
  return answer;
}

/** A new connection authenticated with `enrollmentId`. */
export async function connectApkam(f: ServerFixture, enrollmentId: string): Promise<WireClient> {
  const c = await f.connect();
  const r = await apkamAuth(c, f.atSign, enrollmentId);
  if (r !== "data:success") throw new Error(`apkam auth failed: ${r}`);
  return c;
}

/** Onboards through `enroll:request` on a CRAM connection; returns the manager enrollment's id. */
export async function onboardManager(f: ServerFixture): Promise<string> {
  const cram = await f.connectOwner();
  try {
    const answer = await cram.send(
      enrollLine("request", {
        appName: "manager",
        deviceName: "laptop",
        apkamPublicKey: (await apkamKeys).publicKey,
        encryptedDefaultEncryptionPrivateKey: "ZW5j",
        encryptedDefaultSelfEncryptionKey: "c2VsZg==",
      }),
    );
    const json = dataJson(answer);
    if (json.status !== "approved") throw new Error(`onboarding enrollment not approved: ${answer}`);
    return json.enrollmentId as string;
  } finally {
    cram.close();
  }
}

/** A device request with an OTP from the manager; returns its id (pending). */
export async function requestWithOtp(f: ServerFixture, manager: WireClient, app: string, namespaces: Record<string, string>): Promise<string> {
  const otp = (await manager.send("otp:get")).replace(/^data:/, "");
  const c = await f.connect();
  try {
    const json = dataJson(
      await c.send(enrollLine("request", { appName: app, deviceName: "phone", namespaces, otp, apkamPublicKey: (await apkamKeys).publicKey, encryptedAPKAMSymmetricKey: "a2V5" })),
    );
    if (json.status !== "pending") throw new Error(`request not pending: ${JSON.stringify(json)}`);
    return json.enrollmentId as string;
  } finally {
    c.close();
  }
}

/** Requests and approves; returns the enrollment id. */
export async function enrollApp(f: ServerFixture, manager: WireClient, app: string, namespaces: Record<string, string>): Promise<string> {
  const id = await requestWithOtp(f, manager, app, namespaces);
  const answer = await manager.send(enrollLine("approve", { enrollmentId: id, encryptedDefaultEncryptionPrivateKey: "ZW5j", encryptedDefaultSelfEncryptionKey: "c2VsZg==" }));
  if (dataJson(answer).status !== "approved") throw new Error(`approve failed: ${answer}`);
  return id;
}

/** A server with an onboarded manager enrollment and an APKAM connection of it. */
export interface ManagedServer {
  f: ServerFixture;
  manager: WireClient;
  managerId: string;
}

/** Starts a server, onboards the manager enrollment and connects it. */
export async function startManagedServer(): Promise<ManagedServer> {
  const f = await startServerFixture();
  const managerId = await onboardManager(f);
  return { f, managerId, manager: await connectApkam(f, managerId) };
}
