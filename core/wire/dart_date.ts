/**
 * Dart `DateTime.toString()` of a UTC time, the date format the reference puts on the wire.
 */

/**
 * Formats epoch milliseconds as `YYYY-MM-DD HH:MM:SS.mmmZ` (space separator, millisecond precision, UTC).
 * @example dartDate(0) // "1970-01-01 00:00:00.000Z"
 */
export function dartDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace("T", " ");
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
