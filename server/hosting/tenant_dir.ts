/**
 * The hosting folder on disk: `DIR/tenants/<@sign>/` is one @sign's data folder exactly as `bun server.ts` keeps
 * it (keystore.sqlite, notifications.sqlite, cram.secret, onboarded), plus `tenant.json` with its TLS port, so a
 * restart serves every @sign on the port the directory has for it. `DIR/admin.token` guards the provisioning API.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod/mini";
import { atSignProblem, normalizeAtSign } from "../../core/atsign.ts";

/** The file in a tenant folder that makes it provisioned. */
export const TENANT_FILE = "tenant.json";

/** What `tenant.json` holds. */
export interface TenantRecord {
  atSign: string;
  /** The TLS port this @sign is served on (registered in the directory). */
  port: number;
}

const recordSchema = z.object({ atSign: z.string(), port: z.number().check(z.int(), z.minimum(1), z.maximum(65535)) });

export const tenantsDir = (dir: string) => join(dir, "tenants");

/** The data folder of `atSign` (canonical form) in the hosting folder `dir`. */
export function tenantDataDir(dir: string, atSign: string): string {
  return join(tenantsDir(dir), normalizeAtSign(atSign));
}

/** Every provisioned tenant of `dir`, in @sign order. A folder without a readable tenant.json is skipped. */
export function readTenants(dir: string): TenantRecord[] {
  const root = tenantsDir(dir);
  if (!existsSync(root)) return [];
  const out: TenantRecord[] = [];
  for (const name of readdirSync(root).sort()) {
    if (atSignProblem(name) !== null) continue;
    const rec = readTenantRecord(join(root, name));
    if (rec && rec.atSign === name) out.push(rec);
  }
  return out;
}

function readTenantRecord(dataDir: string): TenantRecord | null {
  try {
    const parsed = recordSchema.safeParse(JSON.parse(readFileSync(join(dataDir, TENANT_FILE), "utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Writes `tenant.json` last and atomically (temp file + rename): a folder becomes a tenant only once its data
 * is in place, so a crash halfway through a create or an import leaves no half-provisioned @sign.
 */
export function writeTenantRecord(dataDir: string, rec: TenantRecord): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tmp = join(dataDir, TENANT_FILE + ".tmp");
  writeFileSync(tmp, JSON.stringify(rec) + "\n", { mode: 0o600 });
  renameSync(tmp, join(dataDir, TENANT_FILE));
}

/** Removes a tenant folder: tenant.json first, so a crash halfway leaves a folder that is no longer served. */
export function removeTenantDir(dataDir: string): void {
  rmSync(join(dataDir, TENANT_FILE), { force: true });
  rmSync(dataDir, { recursive: true, force: true });
}

/** Bytes the files of a tenant folder take (its storage used). */
export function folderBytes(dataDir: string): number {
  let n = 0;
  for (const name of readdirSync(dataDir)) {
    try {
      n += statSync(join(dataDir, name)).size;
    } catch {
      // Gone between the listing and the stat (a WAL checkpoint): not counted.
    }
  }
  return n;
}
