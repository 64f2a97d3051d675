/**
 * Dart `DateTime.toString()` of a UTC time, the date format the reference puts on the wire.
 */

/**
 * The furthest instant either side of the epoch that Dart's DateTime (and a JS Date) can hold: 100,000,000
 * days, in milliseconds. A date past it cannot be written, nor read back by a Dart client.
 */
export const DART_DATE_LIMIT_MS = 8_640_000_000_000_000;

/**
 * Formats epoch milliseconds as `YYYY-MM-DD HH:MM:SS.mmmZ` (space separator, millisecond precision, UTC).
 * Never throws: a time outside ±DART_DATE_LIMIT_MS is written as the limit (a stored record from before the
 * metadata bounds must not break the list, replay or sync it is part of), NaN as the epoch. Years past 9999
 * are written as Dart writes them (`275760-09-13 ...`, no sign, no padding).
 * @example dartDate(0) // "1970-01-01 00:00:00.000Z"
 */
export function dartDate(epochMs: number): string {
  const ms = Number.isNaN(epochMs) ? 0 : Math.min(DART_DATE_LIMIT_MS, Math.max(-DART_DATE_LIMIT_MS, epochMs));
  const d = new Date(ms);
  const iso = d.toISOString();
  // Years 0..9999 are four digits in both; others are `+YYYYYY`/`-YYYYYY` in ISO (27 characters, not 24).
  if (iso.length === 24) return iso.replace("T", " ");
  return dartYear(d.getUTCFullYear()) + iso.slice(iso.indexOf("-", 1)).replace("T", " ");
}

// Dart's `_fourDigits`: at least four digits, a `-` for years before 1 BC, never a `+`.
function dartYear(year: number): string {
  const digits = String(Math.abs(year)).padStart(4, "0");
  return year < 0 ? `-${digits}` : digits;
}

/**
 * Parses a Dart UTC date string (space or `T` separator) back to epoch milliseconds, or null if it is not one.
 * @example parseDartDate("1970-01-01 00:00:01.000Z") // 1000
 */
export function parseDartDate(text: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(text)) return null;
  const ms = Date.parse(text.replace(" ", "T"));
  return Number.isNaN(ms) ? null : ms;
}
