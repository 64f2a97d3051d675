/**
 * A sent enrollment request kept on the device until it is decided, so that `enroll request` can be resumed:
 * `<keys file>.pending` (mode 0600: it holds the APKAM private key) with the id, the key pair and the names it
 * was sent with. It goes away when the request completes, is denied or revoked, or expires — after
 * PENDING_LIFETIME_MS, the reference server's default lifetime of a pending request (48 h, after which the server
 * forgets it too).
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import * as z from "zod/mini";
import { ATKEYS_FILE_MODE } from "../../core/crypto/atkeys.ts";
import { UsageError } from "../../core/options.ts";
import type { SentRequest } from "./request_enrollment.ts";

/** How long a pending request lives: the reference's `enrollmentExpiryInHours` default (48). */
export const PENDING_LIFETIME_MS = 48 * 3_600_000;
/** Largest pending file read (an RSA key pair and a few names). */
const MAX_PENDING_FILE_BYTES = 64 * 1024;

const pendingSchema = z.object({
  v: z.literal(1),
  appName: z.string(),
  deviceName: z.string(),
  namespaces: z.record(z.string(), z.enum(["r", "rw"])),
  expiresAt: z.number(),
  enrollmentId: z.string(),
  keys: z.object({
    atSign: z.string(),
    pkamAlgo: z.enum(["rsa2048", "ecc_secp256r1", "ed25519"]),
    pkamPublicKey: z.string(),
    pkamPrivateKey: z.string(),
    encryptionPublicKey: z.string(),
    apkamSymmetricKey: z.string(),
    enrollmentId: z.string(),
  }),
});

/** What the pending file holds. */
export type PendingRequest = z.infer<typeof pendingSchema>;

/** The pending file of the .atKeys file an enrollment will write. */
export const pendingFileOf = (keysFile: string) => `${keysFile}.pending`;

/** Writes the pending file (0600, atomically). */
export async function savePending(keysFile: string, p: { appName: string; deviceName: string; namespaces: Record<string, "r" | "rw"> }, sent: SentRequest, now = Date.now()): Promise<void> {
  const file = pendingFileOf(keysFile);
  const record: PendingRequest = { v: 1, ...p, expiresAt: now + PENDING_LIFETIME_MS, enrollmentId: sent.enrollmentId, keys: sent.keys as PendingRequest["keys"] };
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(`${file}.tmp`, JSON.stringify(record), { mode: ATKEYS_FILE_MODE });
  await rename(`${file}.tmp`, file);
}

/** The pending request of `keysFile`, or null when there is none or it expired (an expired file is removed). */
export function loadPending(keysFile: string, now = Date.now()): PendingRequest | null {
  const file = pendingFileOf(keysFile);
  if (!existsSync(file)) return null;
  const text = readFileSync(file, "utf8");
  let parsed: ReturnType<typeof pendingSchema.safeParse> | null = null;
  try {
    if (text.length <= MAX_PENDING_FILE_BYTES) parsed = pendingSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = null;
  }
  if (!parsed?.success) throw new UsageError(`${file} is not a pending enrollment request; delete it to request again`);
  if (parsed.data.expiresAt <= now) {
    removePending(keysFile);
    return null;
  }
  return parsed.data;
}

/** Forgets the pending request of `keysFile` (done, denied, revoked or expired). */
export function removePending(keysFile: string): void {
  rmSync(pendingFileOf(keysFile), { force: true });
}

/** The SentRequest a pending file resumes. */
export const sentOf = (p: PendingRequest): SentRequest => ({ enrollmentId: p.enrollmentId, keys: p.keys });
