/**
 * Repair of stored metadata written by versions before the metadata bounds: a ttl/ttb/ttr past
 * METADATA_TIME_LIMITS, or a date past DART_DATE_LIMIT_MS, made every later list, replay or sync that formatted
 * it fail. Since every write is bounded now, the repair runs once per store, at the first open after the
 * upgrade: a migration (METADATA_REPAIR_MIGRATION) leaves a pending-repair row, and repairRows finds the bad rows
 * (one sqlite scan, ~6 µs a row; no JSON parsed in JS for sound rows), brings the fields back within the limits,
 * logs each row and clears the pending row. A store never refuses to open over one.
 */
import type { Database } from "bun:sqlite";
import { METADATA_TIME_LIMITS, timeWithinLimit, type MetadataTimeField } from "../../core/verbs/index.ts";
import { DART_DATE_LIMIT_MS } from "../../core/wire/index.ts";
import type { Logger } from "../../core/log.ts";

const REPAIR_NAME = "metadata_bounds";

/** Append to a store's migrations: asks repairRows to run once at the next open. */
export const METADATA_REPAIR_MIGRATION = `
CREATE TABLE pending_repairs (name TEXT PRIMARY KEY);
INSERT INTO pending_repairs (name) VALUES ('${REPAIR_NAME}');
`;

const TIME_FIELDS = Object.keys(METADATA_TIME_LIMITS) as MetadataTimeField[];
/** The date fields of a key's metadata (epoch ms). */
const DATE_FIELDS = ["createdAt", "updatedAt", "availableAt", "expiresAt", "refreshAt"] as const;

/**
 * A SQL condition, true for rows whose JSON column `col` needs repairRecord: not JSON at all, a time field that
 * is not an integer or past its limit, a date field that is not a number or past the date range.
 */
export function metaNeedsRepairSql(col: string, withDates: boolean): string {
  const bad = (field: string, types: string, limit: number) =>
    `json_type(${col}, '$.${field}') NOT IN (${types}) OR abs(json_extract(${col}, '$.${field}')) > ${limit}`;
  const checks = [
    ...TIME_FIELDS.map((f) => bad(f, "'integer', 'null'", METADATA_TIME_LIMITS[f])),
    ...(withDates ? DATE_FIELDS.map((f) => bad(f, "'integer', 'real', 'null'", DART_DATE_LIMIT_MS)) : []),
  ];
  // CASE evaluates lazily: json_type on text that is not JSON would raise an error.
  return `CASE WHEN json_valid(${col}) THEN (${checks.join(" OR ")}) ELSE 1 END`;
}

const clamp = (v: number, limit: number) => Math.max(-limit, Math.min(limit, Math.round(v)));

/**
 * Brings `meta`'s time and date fields within their limits, in place: numbers are clamped to the limit, other
 * values dropped (null stays: it means "not set"). Returns the names of the fields it changed.
 * @example repairMeta({ ttr: 8640000000000000 }, false) // ["ttr"], and meta.ttr === 1e12
 */
export function repairMeta(meta: Record<string, unknown>, withDates: boolean): string[] {
  const fixed: string[] = [];
  const fix = (field: string, sound: (v: number) => boolean, limit: number) => {
    const v = meta[field];
    if (v === undefined || v === null || (typeof v === "number" && sound(v))) return;
    if (typeof v === "number" && !Number.isNaN(v)) meta[field] = clamp(v, limit);
    else delete meta[field];
    fixed.push(field);
  };
  for (const f of TIME_FIELDS) fix(f, (v) => timeWithinLimit(f, v), METADATA_TIME_LIMITS[f]);
  if (withDates) for (const f of DATE_FIELDS) fix(f, (v) => Math.abs(v) <= DART_DATE_LIMIT_MS, DART_DATE_LIMIT_MS);
  return fixed;
}

/** What a store tells repairRows about its table. */
export interface RepairTarget {
  /** SELECT returning `id` (the row's key, for the log) and `meta` for the rows that need repair. */
  select: string;
  /** Writes a repaired meta JSON back: parameters (meta, id). */
  update: (meta: string, id: string | number) => void;
  /** A row whose meta is not JSON at all: the store's way to skip it from now on. */
  unreadable: (id: string | number) => void;
  withDates: boolean;
  log: Logger;
}

/**
 * When the repair is pending: repairs every row `target.select` finds and clears the pending row, in one
 * transaction, logging one warn line per row. Returns how many rows it repaired or skipped.
 * @example repairRows(db, { select, update, unreadable, withDates: true, log })
 */
export function repairRows(db: Database, target: RepairTarget): number {
  if (!db.query("SELECT 1 FROM pending_repairs WHERE name = ?").get(REPAIR_NAME)) return 0;
  const rows = db.query<{ id: string | number; meta: string }, []>(target.select).all();
  db.transaction(() => {
    for (const r of rows) {
      let meta: unknown;
      try {
        meta = JSON.parse(r.meta);
      } catch {
        meta = null;
      }
      if (typeof meta !== "object" || meta === null || Array.isArray(meta)) {
        target.unreadable(r.id);
        target.log.warn("stored metadata is not a JSON object; the row is skipped from now on", { row: r.id });
        continue;
      }
      const fixed = repairMeta(meta as Record<string, unknown>, target.withDates);
      target.update(JSON.stringify(meta), r.id);
      target.log.warn("stored metadata out of bounds (written by an older version); repaired", { row: r.id, fields: fixed });
    }
    db.query("DELETE FROM pending_repairs WHERE name = ?").run(REPAIR_NAME);
  })();
  return rows.length;
}
