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
