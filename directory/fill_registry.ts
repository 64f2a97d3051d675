/**
 * Fixture generator: fills a registry (a sqlite file, or PostgreSQL) with `count` synthetic @signs, fast
 * enough for 1,000,000 rows (one INSERT ... SELECT over a counter per batch, in key order, so the B-tree only
 * appends). Fill a sqlite file before starting the directory on it: it counts its rows only at open.
 */
import { openSqlite } from "../core/store/sqlite.ts";
import { REGISTRY_MIGRATIONS } from "./sqlite_registry.ts";

/** Rows per transaction: bounds the WAL growth of one commit. */
export const FILL_BATCH_ROWS = 100_000;
/** Digits of the generated sequence number (zero-padded so names sort in insertion order). */
const FILL_DIGITS = 7;

/** How many rows to generate and what they look like. */
export interface FillOptions {
  count: number;
  /** Name prefix; @signs are `@<prefix><0000000..>`. Default "bench". */
  prefix?: string;
  /** Port of every generated entry (hosts are generated, about as long as real swarm names). */
  port?: number;
}

/**
 * The @sign of the i-th generated row (0-based), for picking lookup targets.
 * @example fixtureAtSign(42) // "@bench0000042"
 */
export function fixtureAtSign(i: number, prefix = "bench"): string {
  return "@" + prefix + String(i).padStart(FILL_DIGITS, "0");
}

/**
 * Inserts (or replaces) rows 0..count-1 into the registry at `path`; returns how long it took.
 * @example fillRegistry(join(dataDir, REGISTRY_FILE), { count: 1_000_000 })
 */
export function fillRegistry(path: string, opts: FillOptions): { rows: number; ms: number } {
  const prefix = checkedPrefix(opts);
  const started = performance.now();
  const db = openSqlite(path, { migrations: REGISTRY_MIGRATIONS });
  try {
    const insert = db.prepare<unknown, [number, number, string, number, number]>(
      `WITH RECURSIVE seq(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?2)
       INSERT OR REPLACE INTO atsigns (atsign, host, port, updated_at)
       SELECT printf('%s%0${FILL_DIGITS}d', ?3, i), printf('%08x-%04x.swarm0001.inlay.test', i * 2654435761 % 4294967296, i % 65536), ?4, ?5 FROM seq`,
    );
    const now = Date.now();
    const port = opts.port ?? 6464;
    for (let from = 0; from < opts.count; from += FILL_BATCH_ROWS) {
      const to = Math.min(from + FILL_BATCH_ROWS, opts.count) - 1;
      db.transaction(() => insert.run(from, to, prefix, port, now))();
    }
    insert.finalize();
  } finally {
    db.close();
  }
  return { rows: opts.count, ms: performance.now() - started };
}

/**
 * The same rows into a PostgreSQL registry (migrated first), one INSERT ... SELECT over generate_series per
 * batch. Each batch makes running directories flush their caches once (the trigger's `*`), not per row.
 * @example await fillPostgresRegistry(url, { count: 1_000_000 })
 */
export async function fillPostgresRegistry(url: string, opts: FillOptions): Promise<{ rows: number; ms: number }> {
  const prefix = checkedPrefix(opts);
  const started = performance.now();
  const { SQL } = await import("bun");
  const { migratePostgresRegistry } = await import("./postgres_registry.ts");
  const sql = new SQL(url, { max: 1 });
  try {
    await migratePostgresRegistry(sql);
    const now = Date.now();
    const port = opts.port ?? 6464;
    for (let from = 0; from < opts.count; from += FILL_BATCH_ROWS) {
      const to = Math.min(from + FILL_BATCH_ROWS, opts.count) - 1;
      await sql`INSERT INTO atsigns (atsign, host, port, updated_at)
        SELECT ${prefix} || lpad(i::text, ${FILL_DIGITS}, '0'),
               lpad(to_hex((i::bigint * 2654435761 % 4294967296)::bigint), 8, '0') || '-' || lpad(to_hex(i % 65536), 4, '0') || '.swarm0001.inlay.test',
               ${port}, ${now}
        FROM generate_series(${from}::integer, ${to}::integer) AS i
        ON CONFLICT (atsign) DO UPDATE SET host = excluded.host, port = excluded.port, updated_at = excluded.updated_at`;
    }
  } finally {
    await sql.close();
  }
  return { rows: opts.count, ms: performance.now() - started };
}

function checkedPrefix(opts: FillOptions): string {
  const prefix = opts.prefix ?? "bench";
  const problem = /^[a-z0-9_-]*$/.test(prefix) ? null : "may contain only a-z, 0-9, _ and -";
  if (problem) throw new RangeError(`Cannot fill registry: prefix "${prefix}" ${problem}`);
  if (!Number.isInteger(opts.count) || opts.count < 0 || opts.count >= 10 ** FILL_DIGITS) {
    throw new RangeError(`Cannot fill registry: count must be an integer from 0 to ${10 ** FILL_DIGITS - 1}, got ${opts.count}`);
  }
  return prefix;
}
