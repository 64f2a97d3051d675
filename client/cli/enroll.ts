/**
 * `enroll request|list|fetch|approve|deny|revoke|unrevoke|delete`: a new device asks to join an @sign with an
 * OTP and writes its own .atKeys once approved; a manager device lists and decides requests.
 */
import { requireHostPort } from "../../core/host_port.ts";
import { existsSync } from "node:fs";
import { atSignSchema } from "../../core/atsign.ts";
import { inlayHome } from "../../core/crypto/dev_ca.ts";
import { defaultAtKeysPath, writeAtKeysFile, type AtKeys } from "../../core/crypto/index.ts";
import { trustedCas } from "../../core/net/tls.ts";
import { UsageError } from "../../core/options.ts";
import type { EnrollStatus } from "../../core/verbs/command.ts";
import { rootResolver } from "../connection/root_lookup.ts";
import { approveEnrollment, decideEnrollment, fetchEnrollment, listEnrollments, type EnrollmentInfo } from "../enroll/manage_enrollments.ts";
import { loadPending, pendingFileOf, removePending, savePending, sentOf, type PendingRequest } from "../enroll/pending_request.ts";
import { completeEnrollment, sendEnrollmentRequest, type SentRequest } from "../enroll/request_enrollment.ts";
import { AtClientError } from "../errors.ts";
import { COMMON_SPEC, emit, EXIT, openClient, type CliCommand } from "./command.ts";

const spec = {
  app: { kind: "string", help: "request: the app name, e.g. wavi", arg: "NAME" },
  device: { kind: "string", help: "request: this device's name, e.g. phone", arg: "NAME" },
  ns: { kind: "list", help: "request: namespaces and access, e.g. wavi:rw,buzz:r", arg: "NS:ACCESS,..." },
  otp: { kind: "string", help: "request: the passcode from `otp` on a manager device (not needed to resume a pending request)", arg: "CODE", env: false },
  wait: { kind: "number", help: "request: seconds to wait for approval (a request still pending is kept; the same command resumes it)", arg: "SECONDS", default: 300 },
  overwrite: { kind: "boolean", help: "request: replace an existing .atKeys file", default: false },
  status: { kind: "list", help: "list: only these statuses (pending, approved, denied, revoked, expired)", arg: "STATUS,..." },
  force: { kind: "boolean", help: "revoke: allow revoking this device's own enrollment", default: false },
} as const;

type Opts = Parameters<CliCommand<typeof spec & typeof COMMON_SPEC>["run"]>[0];

const STATUSES = ["pending", "approved", "denied", "revoked", "expired"];
const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

function parseNamespaces(list: string[] | undefined): Record<string, "r" | "rw"> {
  if (!list || list.length === 0) throw new UsageError("enroll request needs --ns, e.g. --ns wavi:rw,buzz:r");
  const out: Record<string, "r" | "rw"> = {};
  for (const item of list) {
    const m = /^([^:\s]+):(r|rw)$/.exec(item);
    if (!m) throw new UsageError(`Invalid --ns entry "${item}": expected NAMESPACE:r or NAMESPACE:rw`);
    out[m[1]!] = m[2] as "r" | "rw";
  }
  return out;
}

/** Validates the request flags; the OTP is needed only for a new request (a resumed one was already sent). */
function requestParams(o: Opts) {
  const atSign = atSignSchema.safeParse(o.as ?? "");
  if (!atSign.success) throw new UsageError("enroll request needs the @sign: --as @alice");
  if (!o.app || !NAME_RE.test(o.app)) throw new UsageError("enroll request needs --app NAME (letters, digits, _ or -)");
  if (!o.device || !NAME_RE.test(o.device)) throw new UsageError("enroll request needs --device NAME (letters, digits, _ or -)");
  if (!(o.wait > 0)) throw new UsageError("--wait must be a positive number of seconds");
  return { atSign: atSign.data, appName: o.app, deviceName: o.device, namespaces: parseNamespaces(o.ns), keysFile: o.keys ?? defaultAtKeysPath(atSign.data) };
}

/** The pending request of this keys file, or null; one for another app or device is a usage error. */
function resumable(p: ReturnType<typeof requestParams>): PendingRequest | null {
  const pending = loadPending(p.keysFile);
  if (!pending) return null;
  if (pending.keys.atSign !== p.atSign || pending.appName !== p.appName || pending.deviceName !== p.deviceName) {
    throw new UsageError(`${pendingFileOf(p.keysFile)} holds the pending request ${pending.enrollmentId} of ${pending.appName} on ${pending.deviceName}; finish it first, or delete that file`);
  }
  return pending;
}

async function request(o: Opts, io: Parameters<CliCommand["run"]>[2]): Promise<number> {
  const p = requestParams(o);
  if (existsSync(p.keysFile) && !o.overwrite) throw new UsageError(`${p.keysFile} already exists; pass --keys FILE for this app's keys (or --overwrite)`);
  const pending = resumable(p);
  if (!pending && !o.otp) throw new UsageError("enroll request needs --otp CODE (run `bun client.ts otp` on a manager device)");
  const ca = trustedCas(o.ca ? { caFile: o.ca, home: inlayHome() } : { home: inlayHome() });
  const address = o.server ? requireHostPort(o.server, "--server") : await rootResolver(requireHostPort(o.directory, "--directory"), ca).resolve(p.atSign);
  const sent: SentRequest = pending ? sentOf(pending) : await sendEnrollmentRequest({ ...p, address, ca, otp: o.otp! });
  const resumeHint = "run the same command again to pick it up (no new --otp needed)";
  // Ctrl-C keeps the request: say how to come back to it instead of leaving it pending without a word. The
  // handler goes in before the pending file is written, so no interrupt falls between the two.
  const onInterrupt = () => {
    io.err(`Interrupted; enrollment ${sent.enrollmentId} is still pending and kept in ${pendingFileOf(p.keysFile)}: ${resumeHint}`);
    process.exit(EXIT.interrupted);
  };
  process.once("SIGINT", onInterrupt);
  if (pending) {
    io.err(`Resuming enrollment ${sent.enrollmentId} (kept in ${pendingFileOf(p.keysFile)})`);
  } else {
    await savePending(p.keysFile, p, sent);
    io.err(`Enrollment ${sent.enrollmentId} requested for ${p.appName} on ${p.deviceName} and pending; approve it from a manager device (\`bun client.ts enroll approve ${sent.enrollmentId}\`)`);
  }
  let keys: AtKeys;
  try {
    keys = await completeEnrollment({ address, ca, waitMs: o.wait * 1000, onProgress: (m) => io.err(m), resumeHint }, sent);
  } catch (e) {
    // Decided or gone (denied, revoked, expired): nothing left to resume.
    if (e instanceof AtClientError && ["AT0025", "AT0027", "AT0028"].includes(e.code)) removePending(p.keysFile);
    throw e;
  } finally {
    process.off("SIGINT", onInterrupt);
  }
  await writeAtKeysFile(keys, p.keysFile);
  removePending(p.keysFile);
  emit(io, o.json, { atSign: keys.atSign, enrollmentId: keys.enrollmentId, keysFile: p.keysFile }, `Enrolled ${p.appName} on ${p.deviceName} for ${keys.atSign} (enrollment ${keys.enrollmentId}); keys written to ${p.keysFile}\n`);
  return 0;
}

function line(e: EnrollmentInfo): string {
  const ns = Object.entries(e.namespace).map(([n, a]) => `${n}:${a}`).join(",");
  return `${e.enrollmentId}  ${e.status.padEnd(8)}  ${e.appName}/${e.deviceName}  ${ns}`;
}

/** The enroll command. */
export const enroll: CliCommand<typeof spec & typeof COMMON_SPEC> = {
  name: "enroll",
  usage:
    "bun client.ts enroll request --as @SIGN --app NAME --device NAME --ns wavi:rw,buzz:r --otp CODE [--keys FILE]\n" +
    "       bun client.ts enroll list [--status pending,...] | fetch ID | approve ID | deny ID | revoke ID [--force] | unrevoke ID | delete ID",
  spec: { ...COMMON_SPEC, ...spec },
  async run(o, args, io) {
    const [sub, id, ...extra] = args;
    if (sub === "request") {
      if (args.length > 1) throw new UsageError("enroll request takes options only");
      return request(o, io);
    }
    if (sub === "list") {
      if (args.length > 1) throw new UsageError("enroll list takes no ID");
      const bad = (o.status ?? []).find((s) => !STATUSES.includes(s));
      if (bad) throw new UsageError(`Unknown --status ${bad} (one of ${STATUSES.join(", ")})`);
      const client = await openClient(o);
      try {
        const list = await listEnrollments(client, o.status as EnrollStatus[] | undefined);
        emit(io, o.json, list, list.length === 0 ? "No enrollments\n" : list.map(line).join("\n") + "\n");
      } finally {
        client.close();
      }
      return 0;
    }
    const ops = ["fetch", "approve", "deny", "revoke", "unrevoke", "delete"] as const;
    const op = ops.find((x) => x === sub);
    if (!op) throw new UsageError(`enroll needs one of: request, list, ${ops.join(", ")}`);
    if (!id || extra.length > 0) throw new UsageError(`enroll ${op} needs exactly one enrollment ID`);
    const client = await openClient(o);
    try {
      if (op === "fetch") {
        const e = await fetchEnrollment(client, id);
        emit(io, o.json, e, line(e) + "\n");
      } else if (op === "approve") {
        const e = await approveEnrollment(client, id);
        emit(io, o.json, { enrollmentId: id, status: e.status }, `Approved ${e.appName}/${e.deviceName} (${id})\n`);
      } else {
        const status = await decideEnrollment(client, op, id, o.force);
        emit(io, o.json, { enrollmentId: id, status }, `Enrollment ${id} is ${status}\n`);
      }
    } finally {
      client.close();
    }
    return 0;
  },
};
