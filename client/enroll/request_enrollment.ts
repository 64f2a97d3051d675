/**
 * A new device asks to join an @sign (ATPROTOCOL.md §8.2): it makes its own APKAM key pair and APKAM
 * symmetric key, sends `enroll:request` with an OTP on an unauthenticated connection, then tries
 * `pkam:...:enrollmentId:<id>` until a manager device approved (or denied, or the request expired), fetches
 * the default keys the approver wrapped for it, and returns everything an .atKeys file holds.
 */
import { normalizeAtSign } from "../../core/atsign.ts";
import { atSdkSuite, generateAesKey, generatePkamKeyPair, type AtKeys, type PkamSigningAlgo } from "../../core/crypto/index.ts";
import { buildCommand } from "../../core/verbs/index.ts";
import { pkamAuthenticate } from "../auth/authenticate.ts";
import { AtConnection } from "../connection/at_connection.ts";
import type { HostPort } from "../connection/root_lookup.ts";
import { AtAuthError, AtClientError, AtCryptoError, AtServerError, errorFromServer } from "../errors.ts";
import { privateKeyMatches, unwrapDefaultKey } from "./default_keys.ts";

/** How often the device asks whether it was approved. */
export const APPROVAL_POLL_INTERVAL_MS = 2_000;
/** Default bound on the wait for approval. */
export const APPROVAL_WAIT_DEFAULT_MS = 5 * 60_000;

/** What the device asks for. */
export interface EnrollmentRequest {
  atSign: string;
  /** Where its atServer is, and the CAs to trust for it. */
  address: HostPort;
  ca: string[];
  appName: string;
  deviceName: string;
  /** e.g. `{ wavi: "rw", buzz: "r" }`. */
  namespaces: Record<string, "r" | "rw">;
  /** The OTP (or SPP) a manager device gave the user. */
  otp: string;
  pkamAlgo?: PkamSigningAlgo;
  /** How long to wait for a decision (default APPROVAL_WAIT_DEFAULT_MS). */
  waitMs?: number;
  pollIntervalMs?: number;
  /** Progress lines for a person ("waiting for approval ..."). */
  onProgress?: (message: string) => void;
}

/** A request the server accepted (pending). */
export interface SentRequest {
  enrollmentId: string;
  keys: Omit<AtKeys, "encryptionPrivateKey" | "selfEncryptionKey">;
}

async function expectData(conn: AtConnection, line: string): Promise<string> {
  const r = await conn.request(line);
  if (!r.ok) throw errorFromServer(r.code, r.description, line);
  return r.data;
}

/**
 * Sends the request (new APKAM key pair and symmetric key) and returns what the device must keep until the
 * request is decided: the id and the keys (the CLI keeps them in a 0600 file, so a rerun resumes).
 */
export async function sendEnrollmentRequest(req: EnrollmentRequest): Promise<SentRequest> {
  const atSign = normalizeAtSign(req.atSign);
  const pkamAlgo = req.pkamAlgo ?? "rsa2048";
  const conn = await AtConnection.open({ ...req.address, ca: req.ca });
  try {
    const encryptionPublicKey = await expectData(conn, buildCommand({ verb: "lookup", name: "publickey", atSign }));
    if (encryptionPublicKey === "null" || encryptionPublicKey === "") throw new AtServerError("AT0015", "not_found", `${atSign} has no public key yet; onboard it first`);
    const [pkam, apkamSymmetricKey] = [await generatePkamKeyPair(pkamAlgo), generateAesKey()];
    const params = {
      appName: req.appName,
      deviceName: req.deviceName,
      namespaces: req.namespaces,
      otp: req.otp,
      apkamPublicKey: pkam.publicKey,
      encryptedAPKAMSymmetricKey: atSdkSuite.wrapKey(apkamSymmetricKey, encryptionPublicKey),
    };
    const answer = JSON.parse(await expectData(conn, buildCommand({ verb: "enroll", operation: "request", params }))) as { enrollmentId?: unknown; status?: unknown };
    if (typeof answer.enrollmentId !== "string") throw new AtServerError("AT0014", "server", "enroll:request answered without an enrollmentId");
    const enrollmentId = answer.enrollmentId;
    return {
      enrollmentId,
      keys: { atSign, pkamAlgo, pkamPublicKey: pkam.publicKey, pkamPrivateKey: pkam.privateKey, encryptionPublicKey, apkamSymmetricKey, enrollmentId },
    };
  } finally {
    conn.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Authenticates with the enrollment, retrying while it is pending; returns the authenticated connection. */
async function awaitApproval(req: WaitOptions, sent: SentRequest): Promise<AtConnection> {
  const waitMs = req.waitMs ?? APPROVAL_WAIT_DEFAULT_MS;
  const deadline = Date.now() + waitMs;
  const key = { algo: sent.keys.pkamAlgo, privateKey: sent.keys.pkamPrivateKey };
  let conn: AtConnection | null = null;
  let told = 0;
  for (;;) {
    if (!conn?.isOpen) conn = await AtConnection.open({ ...req.address, ca: req.ca });
    try {
      await pkamAuthenticate(conn, sent.keys.atSign, key, { enrollmentId: sent.enrollmentId });
      return conn;
    } catch (e) {
      const code = e instanceof AtClientError ? e.code : "";
      if (code === "AT0025") throw new AtAuthError(`Enrollment ${sent.enrollmentId} was denied by a manager device of ${sent.keys.atSign}`, code);
      if (code === "AT0027") throw new AtAuthError(`Enrollment ${sent.enrollmentId} was revoked`, code);
      if (code === "AT0028") throw new AtAuthError(`Enrollment ${sent.enrollmentId} expired before anyone approved it; request again`, code);
      if (code !== "AT0026") {
        conn.close();
        throw e;
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      conn.close();
      throw new AtAuthError(
        `Enrollment ${sent.enrollmentId} is still pending after ${Math.round(waitMs / 1000)} s; approve it from a manager device (\`enroll approve ${sent.enrollmentId}\`), then ${req.resumeHint ?? "call completeEnrollment again"}`,
        "AT0026",
      );
    }
    if (Date.now() - told >= 15_000) {
      told = Date.now();
      req.onProgress?.(`Enrollment ${sent.enrollmentId} is pending: waiting for a manager device of ${sent.keys.atSign} to approve it (${Math.ceil(left / 1000)} s left)`);
    }
    await sleep(Math.min(req.pollIntervalMs ?? APPROVAL_POLL_INTERVAL_MS, left));
  }
}

async function fetchDefaultKey(conn: AtConnection, sent: SentRequest, name: string, what: string): Promise<string> {
  const keyName = `${sent.enrollmentId}.${name}.__manage${sent.keys.atSign}`;
  const raw = await expectData(conn, buildCommand({ verb: "keys", operation: "get", keyName }));
  let wrapped: unknown;
  try {
    wrapped = (JSON.parse(raw) as { value?: unknown }).value;
  } catch {
    wrapped = undefined;
  }
  if (typeof wrapped !== "string") throw new AtServerError("AT0014", "server", `keys:get answered no value for ${keyName}`);
  return unwrapDefaultKey(sent.keys.apkamSymmetricKey!, wrapped, what);
}

/** What waiting for a decision needs (a resumed request has no OTP or names any more). */
export type WaitOptions = Pick<EnrollmentRequest, "address" | "ca" | "waitMs" | "pollIntervalMs" | "onProgress"> & {
  /** What the timeout message tells the user to do next (the CLI: run the same command again). */
  resumeHint?: string;
};

/**
 * Waits for the decision on a sent request; once approved, fetches the default keys the approver wrapped for
 * this device and returns everything an .atKeys file holds. Denied, revoked and expired requests throw
 * AtAuthError (AT0025, AT0027, AT0028); a request still pending at the deadline throws AT0026 and may be
 * completed later with the same `sent`.
 */
export async function completeEnrollment(req: WaitOptions, sent: SentRequest): Promise<AtKeys> {
  const conn = await awaitApproval(req, sent);
  try {
    req.onProgress?.(`Enrollment ${sent.enrollmentId} approved; fetching keys`);
    const encryptionPrivateKey = await fetchDefaultKey(conn, sent, "default_enc_private_key", "encryption private key");
    const selfEncryptionKey = await fetchDefaultKey(conn, sent, "default_self_enc_key", "self-encryption key");
    if (!privateKeyMatches(encryptionPrivateKey, sent.keys.encryptionPublicKey)) {
      throw new AtCryptoError(`The encryption key the approver sent does not match public:publickey${sent.keys.atSign}`);
    }
    return { ...sent.keys, encryptionPrivateKey, selfEncryptionKey };
  } finally {
    conn.close();
  }
}

/**
 * Runs the whole new-device flow and returns the keys of the enrolled app (write them with writeAtKeysFile).
 * @example const keys = await requestEnrollment({ atSign: "@alice", address, ca, appName: "wavi", deviceName: "phone", namespaces: { wavi: "rw" }, otp: "ABC123" });
 */
export async function requestEnrollment(req: EnrollmentRequest): Promise<AtKeys> {
  const sent = await sendEnrollmentRequest(req);
  req.onProgress?.(`Enrollment ${sent.enrollmentId} requested for ${req.appName} on ${req.deviceName}; approve it from a manager device`);
  return completeEnrollment(req, sent);
}
