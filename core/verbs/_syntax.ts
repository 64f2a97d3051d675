/**
 * Small lexical helpers shared by the verb parsers. Private to core/verbs.
 *
 * All matching is case-insensitive, as the reference applies its verb regexes with caseSensitive: false.
 */
import { invalidSyntax } from "../wire/at_protocol_error.ts";

/** Throws the AT0003 "Invalid syntax" error with the verb's usage hint. */
export function fail(usage: string): never {
  throw invalidSyntax(usage);
}

/** Case-insensitive equality for ASCII grammar words. */
export function eq(a: string | undefined, word: string): boolean {
  return a !== undefined && a.toLowerCase() === word.toLowerCase();
}

/** Case-insensitive prefix test; returns the rest after the prefix, or null. */
export function after(text: string, prefix: string): string | null {
  return text.length >= prefix.length && text.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase()
    ? text.slice(prefix.length)
    : null;
}

const ENTITY = /^[^:@\s]+$/;

/** The reference's timestamp on the wire: ISO 8601 UTC, `2026-05-05T11:59:44.123456Z` (fraction optional). */
export const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

/**
 * The field at the start of `text` up to its next `:` (an ISO timestamp whole), and the text after that colon;
 * null when no colon follows.
 * @example nextField("2026-05-05T11:59:44Z:@bob:k") // { value: "2026-05-05T11:59:44Z", rest: "@bob:k" }
 */
export function nextField(text: string): { value: string; rest: string } | null {
  const stamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z:/.exec(text);
  const end = stamp ? stamp[0].length - 1 : text.indexOf(":");
  return end === -1 ? null : { value: text.slice(0, end), rest: text.slice(end + 1) };
}

/**
 * Splits on `:` but keeps an ISO timestamp whole (its own colons would split it into three tokens), so the
 * `cAt`/`uAt`/`eAt`/`aAt`/`dAt` values read as one token wherever they appear.
 * @example splitColons("ttl:5:cAt:2026-05-05T11:59:44.1Z:k@a") // ["ttl", "5", "cAt", "2026-05-05T11:59:44.1Z", "k@a"]
 */
export function splitColons(text: string): string[] {
  const parts = text.split(":");
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const joined = `${parts[i]}:${parts[i + 1]}:${parts[i + 2]}`;
    if (i + 2 < parts.length && /^\d{4}-\d{2}-\d{2}T\d{2}$/.test(parts[i] ?? "") && ISO_TIMESTAMP.test(joined)) {
      out.push(joined);
      i += 2;
    } else out.push(parts[i] ?? "");
  }
  return out;
}

/** True for the reference's `[^:@\s]+` (an @sign body, a metadata value, a plain key name). */
export function isEntity(text: string): boolean {
  return ENTITY.test(text);
}

/** `true|false` (any case) to a boolean, else null. */
export function parseBool(text: string): boolean | null {
  const t = text.toLowerCase();
  return t === "true" ? true : t === "false" ? false : null;
}

/** A decimal integer matching `-?\d+` (or `\d+` when `signed` is false) that fits a JS safe integer, else null. */
export function parseInteger(text: string, signed: boolean): number | null {
  if (!(signed ? /^-?\d+$/ : /^\d+$/).test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/** A metadata / parameter name: letters, digits, `_`, not starting with a digit. */
export function isParamName(text: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(text);
}

/**
 * Splits `name@atSign` at its only `@`; `name` alone gives no atSign. Returns null when the parts do not match
 * `[^:@\s]+(@[^:@\s]+)?`.
 */
export function splitPlainKey(token: string): { name: string; atSign?: string } | null {
  const at = token.indexOf("@");
  if (at === -1) return isEntity(token) ? { name: token } : null;
  const name = token.slice(0, at);
  const sign = token.slice(at + 1);
  if (!isEntity(name) || !isEntity(sign)) return null;
  return { name, atSign: "@" + sign };
}
