/**
 * What the provisioning API does to the tenants of a hosting process: create, list, status, reset, export,
 * import, delete. Each step that changes files ends with the one that makes the change visible (tenant.json
 * written last, removed first), and a failure undoes the steps before it.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { logger } from "../../core/log.ts";
import { AtProtocolError } from "../../core/wire/index.ts";
import { ONBOARDED_MARKER_FILE } from "../onboarded_marker.ts";
import { registerInDirectory, unregisterFromDirectory } from "../registration.ts";
import { loadOrCreateCramSecret } from "../server_keys.ts";
import { folderBytes, removeTenantDir, tenantDataDir, writeTenantRecord } from "./tenant_dir.ts";
import { exportTenant, TENANT_FILE_MAX_BYTES, wipeTenantFiles, writeTenantFiles, type TenantFile } from "./tenant_file.ts";
import { acquireState, dropTenant, resumeTenant, serveTenant, suspendTenant, type Tenant, type TenantPool } from "./tenant_pool.ts";

const log = logger("hosting");

/** A hosting process: its folder, its tenants, and where it registers them. */
export interface Hosting {
  readonly dir: string;
  /** Host name published in the directory for every tenant. */
  readonly publicHost: string;
  readonly pool: TenantPool;
  readonly directoryAdmin: { url: string; token: string } | undefined;
  /** @signs a provisioning call is changing right now (a second call on one of them is refused). */
  readonly busy: Set<string>;
}

/** A refused provisioning call: the HTTP status and a message naming the fix. */
export class ProvisioningError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 413 | 502 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** What create and import answer. */
export interface Provisioned {
  atSign: string;
  host: string;
  port: number;
}

/** What status answers. */
export interface TenantStatus extends Provisioned {
  onboarded: boolean;
  /** Open TLS connections of this @sign. */
  connections: number;
  /** Bytes of its data folder. */
  storageBytes: number;
  /** Whether its stores are open now (they open on the first connection). */
  open: boolean;
}

function tenantOf(h: Hosting, atSign: string): Tenant {
  const t = h.pool.tenants.get(atSign);
  if (!t) throw new ProvisioningError(404, `${atSign} is not hosted here`);
  return t;
}

/** Runs `change` with `atSign` marked busy. */
async function exclusively<T>(h: Hosting, atSign: string, change: () => Promise<T>): Promise<T> {
  if (h.busy.has(atSign)) throw new ProvisioningError(409, `${atSign} is being changed by another call; retry when it is done`);
  h.busy.add(atSign);
  try {
    return await change();
  } finally {
    h.busy.delete(atSign);
  }
}

/** Serves the data folder now in place for `atSign` and publishes it: listener, stores, tenant.json, directory. */
async function publish(h: Hosting, atSign: string, port: number): Promise<Tenant> {
  const dataDir = tenantDataDir(h.dir, atSign);
  let t: Tenant | undefined;
  try {
    t = serveTenant(h.pool, { atSign, port }, dataDir);
    await acquireState(h.pool, t);
    writeTenantRecord(dataDir, { atSign, port: t.port });
    if (h.directoryAdmin) await registerInDirectory(h.directoryAdmin, atSign, h.publicHost, t.port);
    return t;
  } catch (err) {
    if (t) await dropTenant(h.pool, t);
    removeTenantDir(dataDir);
    const message = (err as Error).message;
    const busy = err instanceof AtProtocolError && err.code === "AT0012";
    throw new ProvisioningError(busy ? 503 : message.includes("directory") ? 502 : 400, message);
  }
}

function refuseExisting(h: Hosting, atSign: string): void {
  if (h.pool.tenants.has(atSign) || existsSync(tenantDataDir(h.dir, atSign))) throw new ProvisioningError(409, `${atSign} is already hosted here (delete it first)`);
}

/** Provisions `atSign` on `port` (0: any free one): new stores, server keys and CRAM secret, registered. */
export function createTenant(h: Hosting, atSign: string, port: number): Promise<Provisioned & { cramSecret: string }> {
  return exclusively(h, atSign, async () => {
    refuseExisting(h, atSign);
    const dataDir = tenantDataDir(h.dir, atSign);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const cramSecret = loadOrCreateCramSecret(dataDir);
    const t = await publish(h, atSign, port);
    log.info("tenant created", { atSign, port: t.port });
    return { atSign, host: h.publicHost, port: t.port, cramSecret };
  });
}

/** One page of hosted @signs in @sign order, after `after` (exclusive). */
export function listTenants(h: Hosting, after: string | null, limit: number): { items: Provisioned[]; next: string | null } {
  const names = [...h.pool.tenants.keys()].filter((a) => after === null || a > after).sort();
  const page = names.slice(0, limit);
  const items = page.map((atSign) => ({ atSign, host: h.publicHost, port: tenantOf(h, atSign).port }));
  return { items, next: names.length > limit ? page[page.length - 1]! : null };
}

/** What the host knows of `atSign` without opening its stores. */
export function tenantStatus(h: Hosting, atSign: string): TenantStatus {
  const t = tenantOf(h, atSign);
  return {
    atSign,
    host: h.publicHost,
    port: t.port,
    onboarded: existsSync(join(t.dataDir, ONBOARDED_MARKER_FILE)),
    connections: t.listener?.connectionCount() ?? 0,
    storageBytes: folderBytes(t.dataDir),
    open: t.state !== null,
  };
}

/**
 * A lost device's reset: every connection of `atSign` closes, its keys and notifications are wiped, and it gets
 * a new CRAM secret and new server keys on the same port, to be onboarded again.
 */
export function resetTenant(h: Hosting, atSign: string): Promise<{ atSign: string; cramSecret: string }> {
  return exclusively(h, atSign, async () => {
    const t = tenantOf(h, atSign);
    await suspendTenant(h.pool, t);
    try {
      wipeTenantFiles(t.dataDir);
      const cramSecret = loadOrCreateCramSecret(t.dataDir);
      return { atSign, cramSecret };
    } finally {
      resumeTenant(h.pool, t);
      await acquireState(h.pool, t);
      log.info("tenant reset", { atSign });
    }
  });
}

/** The tenant file of `atSign`; refused past TENANT_FILE_MAX_BYTES. */
export function exportTenantFile(h: Hosting, atSign: string): TenantFile {
  const t = tenantOf(h, atSign);
  if (folderBytes(t.dataDir) * 1.4 > TENANT_FILE_MAX_BYTES) {
    throw new ProvisioningError(413, `${atSign} is too large for one tenant file (${TENANT_FILE_MAX_BYTES} bytes); stop the host and copy its folder ${t.dataDir}`);
  }
  return exportTenant(t.dataDir, atSign);
}

/** Hosts the @sign of a tenant file exported elsewhere, on `port` (0: any free one), and registers it here. */
export function importTenant(h: Hosting, file: TenantFile, port: number): Promise<Provisioned> {
  const atSign = file.atSign;
  return exclusively(h, atSign, async () => {
    refuseExisting(h, atSign);
    writeTenantFiles(tenantDataDir(h.dir, atSign), file);
    const t = await publish(h, atSign, port);
    log.info("tenant imported", { atSign, port: t.port });
    return { atSign, host: h.publicHost, port: t.port };
  });
}

/** Stops hosting `atSign`: out of the directory first, then its connections, stores and folder. */
export function deleteTenant(h: Hosting, atSign: string): Promise<{ deleted: true }> {
  return exclusively(h, atSign, async () => {
    const t = tenantOf(h, atSign);
    if (h.directoryAdmin) {
      try {
        await unregisterFromDirectory(h.directoryAdmin, atSign);
      } catch (err) {
        throw new ProvisioningError(502, `${(err as Error).message}; ${atSign} is still hosted`);
      }
    }
    await dropTenant(h.pool, t);
    removeTenantDir(t.dataDir);
    log.info("tenant deleted", { atSign });
    return { deleted: true as const };
  });
}
