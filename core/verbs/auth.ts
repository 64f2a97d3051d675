/**
 * Authentication verbs: `from`, `cram`, `pkam`, `pol` (ATPROTOCOL.md §4, §5.2, §5.3).
 */
import type { CommandOf, HashingAlgo, SigningAlgo } from "./command.ts";
import { AtProtocolError } from "../wire/at_protocol_error.ts";
import { after, eq, fail, isEntity } from "./_syntax.ts";

const FROM_USAGE = "from:<@sign>[:clientConfig:{json}]";
const CRAM_USAGE = "cram:<digest>";
const PKAM_USAGE =
  "pkam[:signingAlgo:rsa2048|ecc_secp256r1|ed25519][:hashingAlgo:sha256|sha512][:enrollmentId:<id>]:<signature>";

/**
 * Parses `from:<@sign>[:clientConfig:{json}]`; the @sign may omit its `@`. Only `version` of the JSON matters
 * (it selects JSON error bodies). A clientConfig that is not a JSON object is refused with AT0003.
 * @example parseFrom("from:@alice") // { verb: "from", atSign: "@alice" }
 */
export function parseFrom(line: string): CommandOf<"from"> {
  const rest = after(line, "from:") ?? fail(FROM_USAGE);
  const colon = rest.indexOf(":");
  const signText = colon === -1 ? rest : rest.slice(0, colon);
  const body = signText.startsWith("@") ? signText.slice(1) : signText;
  if (!isEntity(body)) fail(FROM_USAGE);
  const cmd: CommandOf<"from"> = { verb: "from", atSign: "@" + body };
  if (colon === -1) return cmd;
  const json = after(rest.slice(colon), ":clientConfig:");
  if (json === null || !/^\{.+\}$/.test(json)) fail(FROM_USAGE);
  let config: unknown;
  try {
    config = JSON.parse(json);
  } catch {
    throw new AtProtocolError("AT0003", `Invalid syntax. clientConfig is not valid JSON. Usage: ${FROM_USAGE}`);
  }
  if (typeof config !== "object" || config === null || Array.isArray(config)) fail(FROM_USAGE);
  cmd.clientConfig = json;
  const version = (config as Record<string, unknown>).version;
  if (typeof version === "string") cmd.clientVersion = version;
  return cmd;
}

/**
 * Builds `from:<@sign>[:clientConfig:<json>]`.
 * @example buildFrom({ verb: "from", atSign: "@alice" }) // "from:@alice"
 */
export function buildFrom(cmd: CommandOf<"from">): string {
  return `from:${cmd.atSign}${cmd.clientConfig === undefined ? "" : `:clientConfig:${cmd.clientConfig}`}`;
}

/**
 * Parses `cram:<digest>`.
 * @example parseCram("cram:ab12") // { verb: "cram", digest: "ab12" }
 */
export function parseCram(line: string): CommandOf<"cram"> {
  const digest = after(line, "cram:") ?? fail(CRAM_USAGE);
  if (digest.length === 0) fail(CRAM_USAGE);
  return { verb: "cram", digest };
}

/**
 * Builds `cram:<digest>`.
 * @example buildCram({ verb: "cram", digest: "ab12" }) // "cram:ab12"
 */
export function buildCram(cmd: CommandOf<"cram">): string {
  return `cram:${cmd.digest}`;
}

const SIGNING: readonly SigningAlgo[] = ["rsa2048", "ecc_secp256r1", "ed25519"];
const HASHING: readonly HashingAlgo[] = ["sha256", "sha512"];

/**
 * Parses `pkam[:signingAlgo:<a>][:hashingAlgo:<h>][:enrollmentId:<id>]:<signature>`, options in any order
 * (Dart sends all three, at_c only enrollmentId, at_python none). As in the reference, text that is not a
 * known option becomes part of the signature (and then fails verification with AT0401).
 * @example parsePkam("pkam:enrollmentId:e1:c2ln") // { verb: "pkam", enrollmentId: "e1", signature: "c2ln" }
 */
export function parsePkam(line: string): CommandOf<"pkam"> {
  let rest = after(line, "pkam:") ?? fail(PKAM_USAGE);
  const cmd: Partial<CommandOf<"pkam">> = {};
  for (;;) {
    const parts = /^([A-Za-z]+):([^:]*):(.*)$/.exec(rest);
    if (!parts) break;
    const [, name = "", value = "", tail = ""] = parts;
    if (eq(name, "signingAlgo") && cmd.signingAlgo === undefined) {
      cmd.signingAlgo = SIGNING.find((a) => eq(value, a)) ?? fail(PKAM_USAGE);
    } else if (eq(name, "hashingAlgo") && cmd.hashingAlgo === undefined) {
      cmd.hashingAlgo = HASHING.find((a) => eq(value, a)) ?? fail(PKAM_USAGE);
    } else if (eq(name, "enrollmentId") && cmd.enrollmentId === undefined) {
      if (!/^[^\s]+$/.test(value)) fail(PKAM_USAGE);
      cmd.enrollmentId = value;
    } else break;
    rest = tail;
  }
  if (rest.length === 0) fail(PKAM_USAGE);
  return { verb: "pkam", ...cmd, signature: rest };
}

/**
 * Builds a pkam line in the reference order (signingAlgo, hashingAlgo, enrollmentId).
 * @example buildPkam({ verb: "pkam", signingAlgo: "ed25519", signature: "c2ln" }) // "pkam:signingAlgo:ed25519:c2ln"
 */
export function buildPkam(cmd: CommandOf<"pkam">): string {
  let out = "pkam";
  if (cmd.signingAlgo) out += `:signingAlgo:${cmd.signingAlgo}`;
  if (cmd.hashingAlgo) out += `:hashingAlgo:${cmd.hashingAlgo}`;
  if (cmd.enrollmentId) out += `:enrollmentId:${cmd.enrollmentId}`;
  return `${out}:${cmd.signature}`;
}
