/**
 * JSON macaroon formats of go-macaroon.
 *
 * v2 (what we write): `{"c":[{"i"|"i64", "v64"?, "l"?}], "l"?, "i"|"i64", "s"|"s64"}`. Each binary field is
 * written as a plain string when it is valid UTF-8 and as unpadded URL-safe base64 under the `64`-suffixed
 * key otherwise (hex `H` keys are read, never written). Keys, order and escaping follow Go's encoding/json,
 * so our output is byte-identical to go-macaroon's MarshalJSON. The npm `macaroon` package adds `"v":2`,
 * which we accept.
 *
 * v1 (read only): `{"caveats":[{"cid","vid"?,"cl"?}],"location","identifier","signature"(hex)}`.
 * A JSON string is also accepted: base64 of a binary macaroon, as go-macaroon's UnmarshalJSON does.
 */
import { ENGLISH } from "../zod_english.ts";
import { z } from "zod/mini";
import { HASH_BYTES } from "./_crypto.ts";
import { decodeBase64Tolerant, encodeBase64Url } from "./base64.ts";
import { decodeBinary } from "./binary.ts";
import { MAX_CAVEATS, MAX_FIELD_BYTES, MAX_MACAROON_BYTES } from "./limits.ts";
import type { Caveat, Macaroon } from "./macaroon.ts";
import { MacaroonError } from "./macaroon_error.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Go's encoding/json escapes these for safe embedding in HTML; JSON.stringify does not. */
const GO_HTML_ESCAPES: Record<string, string> = { "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029" };

function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => GO_HTML_ESCAPES[c]!);
}

/** Appends `"key":value` for a binary field the way go-macaroon's putJSONBinaryField chooses the key. */
function binaryField(parts: string[], key: string, bytes: Uint8Array | undefined): void {
  if (!bytes || bytes.length === 0) return;
  let s: string | undefined;
  try {
    s = decoder.decode(bytes);
  } catch {
    s = undefined;
  }
  parts.push(s === undefined ? `"${key}64":${goString(encodeBase64Url(bytes))}` : `"${key}":${goString(s)}`);
}

/**
 * Encodes `m` in the v2 JSON format, byte-for-byte as go-macaroon's MarshalJSON.
 * @example const text = encodeJsonV2(m); // {"c":[{"i":"methods = GET"}],"i":"key-1","s64":"..."}
 */
export function encodeJsonV2(m: Macaroon): string {
  const top: string[] = [];
  if (m.caveats.length > 0) {
    const cavs = m.caveats.map((c) => {
      const parts: string[] = [];
      binaryField(parts, "i", c.id);
      binaryField(parts, "v", c.verificationId);
      if (c.location) parts.push(`"l":${goString(c.location)}`);
      return `{${parts.join(",")}}`;
    });
    top.push(`"c":[${cavs.join(",")}]`);
  }
  if (m.location) top.push(`"l":${goString(m.location)}`);
  binaryField(top, "i", m.identifier);
  binaryField(top, "s", m.signature);
  return `{${top.join(",")}}`;
}

const str = z.string().check(z.maxLength(2 * MAX_FIELD_BYTES));
const optStr = z.optional(str);
const CaveatV2 = z.object({ i: optStr, iH: optStr, i64: optStr, v: optStr, vH: optStr, v64: optStr, l: optStr });
const MacaroonV2 = z.object({
  v: z.optional(z.literal(2)),
  c: z.optional(z.array(CaveatV2).check(z.maxLength(MAX_CAVEATS))),
  l: optStr,
  i: optStr,
  iH: optStr,
  i64: optStr,
  s: optStr,
  sH: optStr,
  s64: optStr,
});
const MacaroonV1 = z.object({
  caveats: z.nullish(z.array(z.object({ cid: str, vid: optStr, cl: optStr })).check(z.maxLength(MAX_CAVEATS))),
  location: optStr,
  identifier: str,
  signature: str,
});

/**
 * Decodes a JSON macaroon: v2 or v1 object, or a JSON string holding a base64 binary macaroon.
 * @example const m = decodeJson('{"i":"key-1","s64":"..."}');
 */
export function decodeJson(text: string): Macaroon {
  if (text.length > 2 * MAX_MACAROON_BYTES) throw new MacaroonError("too_large", `Cannot decode JSON macaroon: ${text.length} characters`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new MacaroonError("bad_encoding", "Cannot decode JSON macaroon: not JSON");
  }
  if (typeof raw === "string") return decodeBinary(decodeBase64Tolerant(raw, "macaroon"));
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new MacaroonError("malformed", "Cannot decode JSON macaroon: not an object");
  const isV1 = "signature" in raw || "identifier" in raw;
  const isV2 = ["s", "sH", "s64", "i", "iH", "i64", "c"].some((k) => k in raw);
  if (isV1 && isV2) throw new MacaroonError("malformed", "Cannot decode JSON macaroon: mixes v1 and v2 fields");
  return isV1 ? fromV1(raw) : fromV2(raw);
}

function fromV2(raw: object): Macaroon {
  const r = MacaroonV2.safeParse(raw, ENGLISH);
  if (!r.success) throw new MacaroonError("malformed", `Cannot decode JSON macaroon: ${z.prettifyError(r.error)}`);
  const j = r.data;
  const signature = pick(j.s, j.sH, j.s64, "signature");
  if (signature.length !== HASH_BYTES) throw new MacaroonError("malformed", `Cannot decode JSON macaroon: signature of ${signature.length} bytes`);
  const caveats: Caveat[] = (j.c ?? []).map((c, n) => {
    const id = pick(c.i, c.iH, c.i64, `caveat ${n} id`);
    const vid = pick(c.v, c.vH, c.v64, `caveat ${n} vid`);
    if (vid.length === 0) {
      if (c.l) throw new MacaroonError("malformed", `Cannot decode JSON macaroon: first-party caveat ${n} has a location`);
      return { id };
    }
    return c.l ? { id, verificationId: vid, location: c.l } : { id, verificationId: vid };
  });
  return { version: 2, location: j.l ?? "", identifier: pick(j.i, j.iH, j.i64, "identifier"), caveats, signature };
}

function fromV1(raw: object): Macaroon {
  const r = MacaroonV1.safeParse(raw, ENGLISH);
  if (!r.success) throw new MacaroonError("malformed", `Cannot decode JSON macaroon: ${z.prettifyError(r.error)}`);
  const j = r.data;
  if (!/^[0-9a-fA-F]{64}$/.test(j.signature)) throw new MacaroonError("malformed", "Cannot decode JSON macaroon: signature is not 32 bytes of hex");
  const caveats: Caveat[] = (j.caveats ?? []).map((c) => {
    const id = encoder.encode(c.cid);
    if (!c.vid) return { id };
    const verificationId = decodeBase64Tolerant(c.vid, "caveat vid");
    return c.cl ? { id, verificationId, location: c.cl } : { id, verificationId };
  });
  return {
    version: 1,
    location: j.location ?? "",
    identifier: encoder.encode(j.identifier),
    caveats,
    signature: Uint8Array.fromHex(j.signature.toLowerCase()),
  };
}

/** One of plain / hex / base64 forms; more than one is ambiguous (as in go-macaroon). */
function pick(plain: string | undefined, hex: string | undefined, b64: string | undefined, what: string): Uint8Array {
  const given = [plain, hex, b64].filter((x) => x !== undefined && x !== "").length;
  if (given > 1) throw new MacaroonError("malformed", `Cannot decode JSON macaroon: ${what} has more than one encoding`);
  let out: Uint8Array;
  if (plain) out = encoder.encode(plain);
  else if (hex) {
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new MacaroonError("bad_encoding", `Cannot decode JSON macaroon: ${what} is not hex`);
    out = Uint8Array.fromHex(hex.toLowerCase());
  } else if (b64) out = decodeBase64Tolerant(b64, what);
  else out = new Uint8Array(0);
  if (out.length > MAX_FIELD_BYTES) throw new MacaroonError("too_large", `Cannot decode JSON macaroon: ${what} of ${out.length} bytes`);
  return out;
}
