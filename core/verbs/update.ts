/**
 * `update`, `update:json` and `update:meta` (ATPROTOCOL.md §5.4, §5.5).
 */
import type { CommandOf, KeyRef, MetadataPatch, UpdateJsonBody } from "./command.ts";
import { AtProtocolError } from "../wire/at_protocol_error.ts";
import { after, eq, fail, isParamName, splitColons, splitPlainKey } from "./_syntax.ts";
import { applyMetadataPair, formatMetadataPatch } from "./metadata_patch.ts";
import { applyScope, keyRefText, plainKeyRef } from "./key_ref.ts";

const UPDATE_USAGE = "update[:nc][:<metaName>:<value>...][:public|:@<sharedWith>]:<key>[@<owner>] <value>";
const UPDATE_META_USAGE = "update:meta[:nc][:public|:@<sharedWith>]:<key>@<owner>[:<metaName>:<value>...]";
const UPDATE_JSON_USAGE = 'update[:nc]:json:{"atKey":"<key>","value":<value>,"metadata":{...}}';

/** Splits off a leading `nc:` (the `:nc` flag right after the verb); `nc` alone is a key name, not the flag. */
function noCommitFlag(rest: string): { noCommit: boolean; rest: string } {
  const colon = rest.indexOf(":");
  return colon === 2 && eq(rest.slice(0, 2), "nc") ? { noCommit: true, rest: rest.slice(3) } : { noCommit: false, rest };
}

const nc = (flag: boolean) => (flag ? { noCommit: true as const } : {});

/**
 * Parses `update<metadata>:<key> <value>` with metadata pairs in any order, or `update:json:{...}`.
 * The value is everything after the first space following the key.
 * @example parseUpdate("update:ttl:60000:@bob:phone@alice +1 555")
 *   // { verb: "update", key: { sharedWith: "@bob", name: "phone", owner: "@alice" }, metadata: { ttl: 60000 }, value: "+1 555" }
 */
export function parseUpdate(line: string): CommandOf<"update"> | CommandOf<"updateJson"> {
  const flag = noCommitFlag(after(line, "update:") ?? fail(UPDATE_USAGE));
  const json = after(flag.rest, "json:");
  if (json !== null && json.length > 0) return { ...parseUpdateJson(json), ...nc(flag.noCommit) };
  const rest = flag.rest;
  const space = rest.indexOf(" ");
  if (space === -1) fail(UPDATE_USAGE);
  const head = rest.slice(0, space);
  const value = rest.slice(space + 1);
  if (value.length === 0 || /\s/.test(head)) fail(UPDATE_USAGE);
  const tokens = splitColons(head);
  // Metadata pairs take two tokens each, so parity tells whether the key is `name[@owner]` (one token)
  // or `scope:name[@owner]` / `privatekey:at_pkam_publickey` (two).
  const keyTokens = tokens.length % 2 === 1 ? 1 : 2;
  const metadata = readPairs(tokens.slice(0, tokens.length - keyTokens), UPDATE_USAGE);
  const key = plainKeyRef(tokens.slice(tokens.length - keyTokens), ["at_pkam_publickey"]) ?? fail(UPDATE_USAGE);
  return { verb: "update", ...nc(flag.noCommit), key, metadata, value };
}

// Unknown names (at_c's hash/algo, at_python's ttln) are ignored, as §5.4 recommends.
function readPairs(pairs: readonly string[], usage: string): MetadataPatch {
  if (pairs.length % 2 !== 0) fail(usage);
  const metadata: MetadataPatch = {};
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i] ?? "";
    if (!isParamName(name)) fail(usage);
    applyMetadataPair(metadata, name, pairs[i + 1] ?? "", usage);
  }
  return metadata;
}

function parseUpdateJson(json: string): CommandOf<"updateJson"> {
  let body: unknown;
  try {
    body = JSON.parse(json);
  } catch {
    throw new AtProtocolError("AT0003", `Invalid syntax. update:json body is not valid JSON. Usage: ${UPDATE_JSON_USAGE}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) fail(UPDATE_JSON_USAGE);
  const b = body as Record<string, unknown>;
  if (typeof b.atKey !== "string" || b.atKey.length === 0 || !("value" in b)) fail(UPDATE_JSON_USAGE);
  const out: UpdateJsonBody = { atKey: b.atKey, value: b.value };
  for (const f of ["sharedBy", "sharedWith"] as const) {
    const v = b[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== "string") fail(UPDATE_JSON_USAGE);
    out[f] = v;
  }
  if (b.metadata !== undefined && b.metadata !== null) {
    if (typeof b.metadata !== "object" || Array.isArray(b.metadata)) fail(UPDATE_JSON_USAGE);
    out.metadata = b.metadata as Record<string, unknown>;
  }
  return { verb: "updateJson", body: out };
}

/**
 * Builds `update<metadata>:<key> <value>` (metadata in the canonical order) or `update:json:<json>`.
 * @example buildUpdate({ verb: "update", key: { isPublic: true, name: "x", owner: "@a" }, metadata: {}, value: "v" })
 *   // "update:public:x@a v"
 */
export function buildUpdate(cmd: CommandOf<"update"> | CommandOf<"updateJson">): string {
  const flag = cmd.noCommit ? ":nc" : "";
  if (cmd.verb === "updateJson") return `update${flag}:json:${JSON.stringify(cmd.body)}`;
  return `update${flag}${formatMetadataPatch(cmd.metadata)}:${keyRefText(cmd.key)} ${cmd.value}`;
}

/**
 * Parses `update:meta[:public|:@with]:<key>@<owner><metadata>`; metadata pairs may also come before the key.
 * @example parseUpdateMeta("update:meta:@bob:phone@alice:ttl:60000")
 *   // { verb: "updateMeta", key: { sharedWith: "@bob", name: "phone", owner: "@alice" }, metadata: { ttl: 60000 } }
 */
export function parseUpdateMeta(line: string): CommandOf<"updateMeta"> {
  const flag = noCommitFlag(after(line, "update:meta:") ?? fail(UPDATE_META_USAGE));
  const rest = flag.rest;
  if (/\s/.test(rest)) fail(UPDATE_META_USAGE);
  const tokens = splitColons(rest);
  // The key is the one token holding an `@` after its first character; names and values never do.
  const keyAt = tokens.findIndex((t) => t.indexOf("@", 1) > 0);
  if (keyAt === -1) fail(UPDATE_META_USAGE);
  const split = splitPlainKey(tokens[keyAt] ?? "");
  if (!split || split.atSign === undefined) fail(UPDATE_META_USAGE);
  // An odd count of tokens before the key means the last of them is the scope (pairs come in twos).
  const ref: Partial<KeyRef> = {};
  const metaEnd = keyAt % 2 === 1 ? keyAt - 1 : keyAt;
  if (metaEnd !== keyAt && !applyScope(ref, tokens[metaEnd] ?? "")) fail(UPDATE_META_USAGE);
  const metadata = readPairs([...tokens.slice(0, metaEnd), ...tokens.slice(keyAt + 1)], UPDATE_META_USAGE);
  return { verb: "updateMeta", ...nc(flag.noCommit), key: { ...ref, name: split.name, owner: split.atSign }, metadata };
}

/**
 * Builds `update:meta:<key><metadata>` (key first, as the reference grammar wants).
 * @example buildUpdateMeta({ verb: "updateMeta", key: { name: "x", owner: "@a" }, metadata: { ttl: 5 } })
 *   // "update:meta:x@a:ttl:5"
 */
export function buildUpdateMeta(cmd: CommandOf<"updateMeta">): string {
  return `update:meta${cmd.noCommit ? ":nc" : ""}:${keyRefText(cmd.key)}${formatMetadataPatch(cmd.metadata)}`;
}
