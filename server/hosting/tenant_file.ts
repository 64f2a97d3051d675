/**
 * The file that moves one @sign between hosts (export, import): JSON naming the @sign, with the files of its data
 * folder in base64. The sqlite files are copied with `VACUUM INTO`, a consistent snapshot also while the @sign is
 * served. It holds the @sign's private server keys and CRAM secret: keep it as a secret (the CLI writes it 0600).
 */
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod/mini";
import { atSignSchema } from "../../core/atsign.ts";
import { fromBase64, toBase64 } from "../../core/crypto/encoding.ts";
import { CRAM_SECRET_FILE } from "../server_keys.ts";
import { KEYSTORE_FILE, ONBOARDED_MARKER_FILE } from "../onboarded_marker.ts";

/** The `format` field of a tenant file. */
export const TENANT_FILE_FORMAT = "inlay-tenant-v1";
/** Largest tenant file exported or imported (bytes of JSON); a larger @sign is moved by copying its folder. */
export const TENANT_FILE_MAX_BYTES = 64 * 1024 * 1024;
/** The notification store's file (server/notify/notify_service.ts). */
export const NOTIFICATIONS_FILE = "notifications.sqlite";

/** The files of a data folder that move with the @sign; everything else there is derived or per host. */
const MOVED_FILES = [KEYSTORE_FILE, NOTIFICATIONS_FILE, CRAM_SECRET_FILE, ONBOARDED_MARKER_FILE] as const;
const SQLITE_FILES: ReadonlySet<string> = new Set([KEYSTORE_FILE, NOTIFICATIONS_FILE]);

const base64 = z.string().check(z.regex(/^[A-Za-z0-9+/]*={0,2}$/, "file contents must be base64"));

export const tenantFileSchema = z.strictObject({
  format: z.literal(TENANT_FILE_FORMAT, `format must be "${TENANT_FILE_FORMAT}"`),
  atSign: atSignSchema,
  exportedAt: z.string(),
  files: z.partialRecord(z.enum(MOVED_FILES, `files may be only ${MOVED_FILES.join(", ")}`), base64).check(
    z.refine((f) => f[KEYSTORE_FILE] !== undefined, `files must hold ${KEYSTORE_FILE}`),
  ),
});

export type TenantFile = z.infer<typeof tenantFileSchema>;

/** A consistent copy of the sqlite file `path` (WAL folded in), read through a temp file beside it. */
function sqliteSnapshot(path: string): Uint8Array {
  const tmp = `${path}.export-${crypto.randomUUID()}`;
  const db = new Database(path, { readwrite: true, create: false });
  try {
    db.run(`VACUUM INTO '${tmp.replaceAll("'", "''")}'`);
    return readFileSync(tmp);
  } finally {
    db.close();
    rmSync(tmp, { force: true });
  }
}

/** The tenant file of the data folder `dataDir` of `atSign`. */
export function exportTenant(dataDir: string, atSign: string): TenantFile {
  const files: TenantFile["files"] = {};
  for (const name of MOVED_FILES) {
    const path = join(dataDir, name);
    if (!existsSync(path)) continue;
    files[name] = toBase64(SQLITE_FILES.has(name) ? sqliteSnapshot(path) : readFileSync(path));
  }
  return { format: TENANT_FILE_FORMAT, atSign, exportedAt: new Date().toISOString(), files };
}

/** Writes the files of `file` into the new data folder `dataDir` (0700; files 0600). */
export function writeTenantFiles(dataDir: string, file: TenantFile): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  for (const [name, b64] of Object.entries(file.files)) {
    if (b64 !== undefined) writeFileSync(join(dataDir, name), fromBase64(b64, name), { mode: 0o600 });
  }
}

/** Removes the files a reset wipes: both stores (with their WAL), the onboarded marker and the CRAM secret. */
export function wipeTenantFiles(dataDir: string): void {
  for (const name of MOVED_FILES) {
    for (const suffix of SQLITE_FILES.has(name) ? ["", "-wal", "-shm"] : [""]) rmSync(join(dataDir, name + suffix), { force: true });
  }
}
