/**
 * atProtocol request lines <-> typed Commands.
 *
 * `parseCommand` follows the reference server (ATPROTOCOL.md §2.3): trim, `@exit`, verb normalisation (the text
 * before the first `:` is lower-cased with spaces removed; a line without `:` is lower-cased whole), then the
 * first verb whose prefix test matches, in the reference's order. Every failure is an AtProtocolError: AT0005
 * for an oversized line, AT0003 "invalid command" for an unknown verb, AT0003 "Invalid syntax. Usage: ..." for a
 * known verb with bad arguments.
 */
import type { Command } from "./command.ts";
import { AtProtocolError, invalidCommand } from "../wire/at_protocol_error.ts";
import { MAX_REQUEST_BYTES } from "../wire/limits.ts";
import { buildCram, buildFrom, buildPkam, parseCram, parseFrom, parsePkam } from "./auth.ts";
import { buildUpdate, buildUpdateMeta, parseUpdate, parseUpdateMeta } from "./update.ts";
import { buildDelete, parseDelete } from "./delete.ts";
import { buildLlookup, buildLookup, parseLlookup, parseLookup, parsePlookup } from "./lookup.ts";
import { buildScan, parseScan } from "./scan.ts";
import {
  buildNotify,
  buildNotifyAll,
  buildNotifyFetch,
  buildNotifyList,
  buildNotifyRemove,
  buildNotifyStatus,
  parseNotify,
  parseNotifyAll,
  parseNotifyFetch,
  parseNotifyList,
  parseNotifyRemove,
  parseNotifyStatus,
} from "./notify.ts";
import { buildMonitor, parseMonitor } from "./monitor.ts";
import { buildSyncFrom, parseSyncFrom } from "./sync.ts";
import { buildStats, parseStats } from "./stats.ts";
import { buildConfig, parseConfig } from "./config.ts";
import { buildInfo, buildNoop, parseInfo, parseNoop } from "./info.ts";
import { buildBatch, parseBatch } from "./batch.ts";
import { buildEnroll, buildOtp, parseEnroll, parseOtp } from "./enroll.ts";
import { buildKeys, parseKeys } from "./keys.ts";
import { buildStream, parseStream } from "./stream.ts";
import { buildNotifyMulti, parseNotifyMulti } from "./notify_multi.ts";
import { buildTo, parseTo } from "./to.ts";

export type * from "./command.ts";

/**
 * Applies the reference's verb normalisation to a trimmed line.
 * @example normalizeVerb("UPDATE:Phone@alice V") // "update:Phone@alice V"
 * @example normalizeVerb("SCAN Wavi") // "scan wavi" (the §2.3 quirk: no colon, so the regex is lower-cased too)
 */
export function normalizeVerb(line: string): string {
  const colon = line.indexOf(":");
  if (colon === -1) return line.toLowerCase();
  return line.slice(0, colon).toLowerCase().replaceAll(" ", "") + line.slice(colon);
}

type Route = { accepts: (line: string) => boolean; parse: (line: string) => Command };

const starts = (prefix: string) => (line: string) => line.startsWith(prefix);
const NOT_PLAIN_NOTIFY = ["notify:list", "notify:status", "notify:all", "notify:remove", "notify:fetch", "notify:multi:"];

// The reference's dispatch order (§2.3 step 5); the first route whose test accepts the line handles it.
const ROUTES: readonly Route[] = [
  { accepts: starts("from:"), parse: parseFrom },
  { accepts: starts("cram:"), parse: parseCram },
  { accepts: starts("pkam:"), parse: parsePkam },
  // The reference excludes every `update:meta...` line here, so `update:metadata@alice v` is an unknown verb
  // there; we only hand `update:meta:` to update:meta and let such keys through.
  { accepts: (l) => l.startsWith("update:") && !l.startsWith("update:meta:"), parse: parseUpdate },
  { accepts: starts("update:meta:"), parse: parseUpdateMeta },
  { accepts: starts("llookup:"), parse: parseLlookup },
  { accepts: starts("plookup:"), parse: parsePlookup },
  { accepts: starts("lookup:"), parse: parseLookup },
  { accepts: starts("scan"), parse: parseScan },
  { accepts: (l) => l === "pol", parse: () => ({ verb: "pol" }) },
  { accepts: starts("delete:"), parse: parseDelete },
  { accepts: starts("stats"), parse: parseStats },
  { accepts: starts("config:"), parse: parseConfig },
  { accepts: starts("monitor"), parse: parseMonitor },
  { accepts: starts("stream"), parse: parseStream },
  { accepts: (l) => l.startsWith("notify:") && !NOT_PLAIN_NOTIFY.some((p) => l.startsWith(p)), parse: parseNotify },
  { accepts: starts("notify:multi:"), parse: parseNotifyMulti },
  { accepts: starts("notify:list"), parse: parseNotifyList },
  { accepts: starts("batch:"), parse: parseBatch },
  { accepts: starts("notify:status"), parse: parseNotifyStatus },
  { accepts: starts("notify:all"), parse: parseNotifyAll },
  { accepts: starts("sync:from"), parse: parseSyncFrom },
  { accepts: (l) => /^info(:(brief|mtls|mtlsbrief))?$/.test(l), parse: parseInfo },
  { accepts: starts("noop:"), parse: parseNoop },
  { accepts: starts("notify:remove:"), parse: parseNotifyRemove },
  { accepts: starts("notify:fetch"), parse: parseNotifyFetch },
  { accepts: starts("enroll:"), parse: parseEnroll },
  { accepts: starts("otp:"), parse: parseOtp },
  // Deprecated by the reference, kept for the clients that still send it (see keys.ts).
  { accepts: starts("keys:"), parse: parseKeys },
  { accepts: starts("to:"), parse: parseTo },
];

const encoder = new TextEncoder();

/**
 * Parses one request line (with or without its `\r\n`) into a Command. Throws only AtProtocolError.
 * An empty line is AT0003 too; servers answer a bare empty line with just a prompt before calling this.
 * @example parseCommand("llookup:phone.wavi@alice\r\n")
 *   // { verb: "llookup", key: { name: "phone.wavi", owner: "@alice" } }
 */
export function parseCommand(line: string): Command {
  // A UTF-16 unit is 1 to 3 UTF-8 bytes, so only lines near the limit need the exact (copying) count.
  const near = line.length * 3 > MAX_REQUEST_BYTES;
  if (line.length > MAX_REQUEST_BYTES || (near && encoder.encode(line).byteLength > MAX_REQUEST_BYTES)) {
    throw new AtProtocolError("AT0005", `Request of more than ${MAX_REQUEST_BYTES} bytes`);
  }
  const trimmed = line.trim();
  if (trimmed.toLowerCase() === "@exit") return { verb: "exit" };
  const normal = normalizeVerb(trimmed);
  const route = ROUTES.find((r) => r.accepts(normal));
  if (!route) throw invalidCommand();
  try {
    return route.parse(normal);
  } catch (err) {
    if (err instanceof AtProtocolError) throw err;
    // A parser bug must not escape as a crash of the connection; report it as a syntax error.
    throw new AtProtocolError("AT0003", "Invalid syntax", { cause: err });
  }
}

/**
 * Writes a Command as a request line without the trailing `\n`; `parseCommand(buildCommand(c))` equals `c`.
 * @example buildCommand({ verb: "lookup", name: "publickey", atSign: "@alice" }) // "lookup:publickey@alice"
 */
export function buildCommand(cmd: Command): string {
  switch (cmd.verb) {
    case "exit":
      return "@exit";
    case "from":
      return buildFrom(cmd);
    case "cram":
      return buildCram(cmd);
    case "pkam":
      return buildPkam(cmd);
    case "pol":
      return "pol";
    case "update":
    case "updateJson":
      return buildUpdate(cmd);
    case "updateMeta":
      return buildUpdateMeta(cmd);
    case "delete":
      return buildDelete(cmd);
    case "llookup":
      return buildLlookup(cmd);
    case "lookup":
    case "plookup":
      return buildLookup(cmd);
    case "scan":
      return buildScan(cmd);
    case "notify":
      return buildNotify(cmd);
    case "notifyStatus":
      return buildNotifyStatus(cmd);
    case "notifyList":
      return buildNotifyList(cmd);
    case "notifyFetch":
      return buildNotifyFetch(cmd);
    case "notifyRemove":
      return buildNotifyRemove(cmd);
    case "notifyAll":
      return buildNotifyAll(cmd);
    case "notifyMulti":
      return buildNotifyMulti(cmd);
    case "to":
      return buildTo(cmd);
    case "monitor":
      return buildMonitor(cmd);
    case "syncFrom":
      return buildSyncFrom(cmd);
    case "stats":
      return buildStats(cmd);
    case "config":
      return buildConfig(cmd);
    case "info":
      return buildInfo(cmd);
    case "noop":
      return buildNoop(cmd);
    case "batch":
      return buildBatch(cmd);
    case "enroll":
      return buildEnroll(cmd);
    case "otp":
      return buildOtp(cmd);
    case "keys":
      return buildKeys(cmd);
    case "stream":
      return buildStream(cmd);
  }
}

export { keyRefText } from "./key_ref.ts";
export { METADATA_FIELDS, METADATA_TIME_LIMITS, checkTimeLimit, isAppMetadata, metadataFieldsOf, timeWithinLimit, type MetadataTimeField } from "./metadata_patch.ts";
export { NOTIFY_MULTI_REFUSED } from "./notify_multi.ts";
export * from "./metadata_json.ts";
export * from "./stats_json.ts";
export * from "./notification_json.ts";
