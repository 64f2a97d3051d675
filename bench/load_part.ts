/**
 * Loads another part of Inlay (directory/, server/, relay/...) at run time, so the bench runs, and says
 * "not available" for what is missing, while the parts are still being built.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { NotAvailable } from "./scenario.ts";

/** Absolute path of a file relative to the repository root. */
export function repoPath(rel: string): string {
  return fileURLToPath(new URL(`../${rel}`, import.meta.url));
}

/**
 * Imports `rel` (relative to the repo root) and returns its export `name`, typed by the caller after the
 * interface in notes/INTERFACES.md. Throws NotAvailable when the file or the export does not exist yet.
 */
export async function loadPart<T>(rel: string, name: string): Promise<T> {
  const file = repoPath(rel);
  if (!existsSync(file)) throw new NotAvailable(`${rel} is not built yet`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(file)) as Record<string, unknown>;
  } catch (err) {
    throw new NotAvailable(`${rel} does not load: ${(err as Error).message.split("\n")[0]}`);
  }
  if (mod[name] === undefined) throw new NotAvailable(`${rel} has no export ${name} yet`);
  return mod[name] as T;
}
