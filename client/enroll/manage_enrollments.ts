/**
 * The manager side of enrollment (ATPROTOCOL.md §8.1, §8.3) over an authenticated AtClient: list, approve
 * (wrapping the default keys for the new device), deny, revoke, unrevoke, delete, and OTPs.
 */
import type { EnrollParams, EnrollStatus } from "../../core/verbs/command.ts";
import { buildCommand } from "../../core/verbs/index.ts";
import type { AtClient } from "../at_client.ts";
import { AtServerError } from "../errors.ts";
import { wrapDefaultKeys } from "./default_keys.ts";

/** One enrollment as `enroll:list` / `enroll:fetch` show it. */
export interface EnrollmentInfo {
  enrollmentId: string;
  appName: string;
  deviceName: string;
  namespace: Record<string, string>;
  status: EnrollStatus;
  encryptedAPKAMSymmetricKey: string | null;
}

/** Operations that answer `{"status":..,"enrollmentId":..}`. */
export type EnrollDecision = "deny" | "revoke" | "unrevoke" | "delete";

function parseJson(text: string, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new AtServerError("AT0014", "server", `${what} answered something that is not a JSON object`);
}

function enroll(client: AtClient, operation: "list" | "fetch" | "approve" | EnrollDecision, params?: EnrollParams, force = false): Promise<string> {
  return client.command(buildCommand({ verb: "enroll", operation, ...(force ? { force: true as const } : {}), ...(params ? { params } : {}) }));
}

const info = (enrollmentId: string, v: Record<string, unknown>): EnrollmentInfo => ({ enrollmentId, ...(v as Omit<EnrollmentInfo, "enrollmentId">) });

/** Enrollments of the @sign, optionally only those in `statuses`. */
export async function listEnrollments(client: AtClient, statuses?: EnrollStatus[]): Promise<EnrollmentInfo[]> {
  const map = parseJson(await enroll(client, "list", statuses ? { enrollmentStatusFilter: statuses } : undefined), "enroll:list");
  return Object.entries(map).map(([key, v]) => info(key.slice(0, key.indexOf(".")), v as Record<string, unknown>));
}

/** One enrollment. */
export async function fetchEnrollment(client: AtClient, enrollmentId: string): Promise<EnrollmentInfo> {
  return info(enrollmentId, parseJson(await enroll(client, "fetch", { enrollmentId }), "enroll:fetch"));
}

/** Approves a pending request: unwraps its APKAM key with my encryption key and wraps the default keys with it. */
export async function approveEnrollment(client: AtClient, enrollmentId: string): Promise<EnrollmentInfo> {
  const request = await fetchEnrollment(client, enrollmentId);
  if (request.status !== "pending") throw new AtServerError("AT0030", "usage", `Enrollment ${enrollmentId} is ${request.status}, not pending`);
  if (!request.encryptedAPKAMSymmetricKey) throw new AtServerError("AT0022", "usage", `Enrollment ${enrollmentId} carries no APKAM key to wrap the default keys with`);
  const wrapped = wrapDefaultKeys(request.encryptedAPKAMSymmetricKey, client.keys);
  await enroll(client, "approve", { enrollmentId, ...wrapped });
  return { ...request, status: "approved" };
}

/** deny / revoke / unrevoke / delete; `force` lets a device revoke its own enrollment. Returns the new status. */
export async function decideEnrollment(client: AtClient, operation: EnrollDecision, enrollmentId: string, force = false): Promise<string> {
  const answer = parseJson(await enroll(client, operation, { enrollmentId }, force), `enroll:${operation}`);
  return String(answer.status);
}

/** A new one-time passcode for a device to enroll with (`ttlMs` default: the server's, 5 min). */
export function newOtp(client: AtClient, ttlMs?: number): Promise<string> {
  return client.command(buildCommand({ verb: "otp", operation: "get", ...(ttlMs !== undefined ? { ttlMs } : {}) }));
}

/** Sets the semi-permanent passcode. */
export async function putSpp(client: AtClient, spp: string, ttlMs?: number): Promise<void> {
  await client.command(buildCommand({ verb: "otp", operation: "put", otp: spp, ...(ttlMs !== undefined ? { ttlMs } : {}) }));
}
