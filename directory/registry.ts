/**
 * The directory's registry: @sign -> `host:port`. Two stores implement it: an embedded sqlite file (the
 * default, directory/sqlite_registry.ts) and PostgreSQL shared by several directory processes
 * (directory/postgres_registry.ts). The root listener only calls `lookup`; the admin API the rest.
 *
 * Keys are stored like the reference's Redis keys: the @sign body without `@`, lower-cased.
 */

/** Largest page `list` returns. */
export const REGISTRY_PAGE_MAX = 1000;

/** One registered @sign. `atSign` carries the `@`. */
export interface Registration {
  atSign: string;
  host: string;
  port: number;
  /** Milliseconds since the epoch of the last put. */
  updatedAt: number;
}

/** A page of registrations in @sign order; `next` is the `after` of the following page, or null at the end. */
export interface RegistrationPage {
  items: Registration[];
  next: string | null;
}

/** A lookup's answer: synchronous when the store has it in memory or in-process, else a promise. */
export type LookupResult = string | null | Promise<string | null>;

/** The registry's operations. @signs are canonical (`@` + lower-cased body) except in `lookup`. */
export interface Registry {
  /** The wire lookup: a lower-cased key without `@` -> `host:port`, or null. */
  lookup(key: string): LookupResult;
  get(atSign: string): Promise<Registration | null>;
  /** Registers or replaces; resolves with the stored registration once it is durable and visible to lookups. */
  put(atSign: string, host: string, port: number): Promise<Registration>;
  /** Resolves false when the @sign was not registered. */
  remove(atSign: string): Promise<boolean>;
  /** Registrations strictly after `after` (a canonical @sign, or null for the start), at most `limit`. */
  list(after: string | null, limit: number): Promise<RegistrationPage>;
  /** Number of registrations, kept in memory (a COUNT(*) over 1,000,000 rows costs milliseconds). */
  count(): number;
  /** Resolves when the store answers a query now; rejects when it cannot (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The stored key of an @sign: its body without `@`. */
export const registryKey = (atSign: string) => (atSign.startsWith("@") ? atSign.slice(1) : atSign);

/** Clamps a requested page size to 1..REGISTRY_PAGE_MAX. */
export const pageSize = (limit: number) => Math.min(Math.max(1, Math.trunc(limit)), REGISTRY_PAGE_MAX);

/** A page from rows fetched with one extra row (which tells whether another page exists without a second query). */
export function toPage(rows: Registration[], n: number): RegistrationPage {
  const items = rows.slice(0, n);
  return { items, next: rows.length > n ? items[items.length - 1]!.atSign : null };
}
