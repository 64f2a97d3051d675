/**
 * The server answers sync works with (ATPROTOCOL.md §5.13, §5.15, §7.2), validated with zod: `stats:3`
 * (latest commit id), `sync:from` pages, and `batch:` replies. Sync metadata comes with every value as a
 * string (Dart `toString()`); it is turned back into typed record metadata here.
 */
import { z } from "zod/mini";
import type { RecordMeta } from "../data/record.ts";
import { AtServerError } from "../errors.ts";

const entrySchema = z.object({
  atKey: z.string().check(z.minLength(1)),
  value: z.nullish(z.string()),
  metadata: z.nullish(z.record(z.string(), z.unknown())),
  commitId: z.int(),
  operation: z.enum(["+", "#", "*", "-"]),
});

/** One commit log entry of a `sync:from` page. */
export interface SyncEntry {
  key: string;
  value: string | null;
  meta: RecordMeta;
  commitId: number;
  /** `-` deletes; `+ # *` are updates. */
  isDelete: boolean;
}

const BOOLEAN_FIELDS = new Set(["isBinary", "isEncrypted", "ccd", "isCached"]);
const NUMBER_FIELDS = new Set(["ttl", "ttb", "ttr", "version"]);

function parseJson(payload: string, what: string): unknown {
  try {
    return JSON.parse(payload);
  } catch {
    throw new AtServerError("AT0014", "server", `${what} answered something that is not JSON`);
  }
}

/** Sync metadata (all strings) as typed record metadata. */
function typedMeta(raw: Record<string, unknown> | null | undefined): RecordMeta {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    if (v === null || v === "null") continue;
    if (BOOLEAN_FIELDS.has(k)) out[k] = v === true || v === "true";
    else if (NUMBER_FIELDS.has(k) && Number.isFinite(Number(v))) out[k] = Number(v);
    else out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out as RecordMeta;
}

/**
 * Parses a `sync:from` page.
 * @example parseSyncPage('[{"atKey":"x@alice","value":null,"metadata":null,"commitId":3,"operation":"-"}]')
 */
export function parseSyncPage(payload: string): SyncEntry[] {
  const r = z.array(entrySchema).safeParse(parseJson(payload, "sync:from"));
  if (!r.success) throw new AtServerError("AT0014", "server", "sync:from answered an unexpected page shape");
  return r.data.map((e) => ({
    key: e.atKey,
    value: e.value ?? null,
    meta: typedMeta(e.metadata),
    commitId: e.commitId,
    isDelete: e.operation === "-",
  }));
}

const statsSchema = z.array(z.object({ id: z.string(), value: z.unknown() }));

/**
 * The latest commit id from a `stats:3` answer; null when the server has none yet.
 * @example latestCommitId(' [{"id":"3","name":"lastCommitID","value":"42"}]') // 42
 */
export function latestCommitId(payload: string): number | null {
  const r = statsSchema.safeParse(parseJson(payload, "stats:3"));
  const item = r.success ? r.data.find((s) => s.id === "3") : undefined;
  if (!item) throw new AtServerError("AT0014", "server", "stats:3 answered without a lastCommitID");
  const n = Number(item.value);
  return item.value === null || item.value === "null" || !Number.isSafeInteger(n) ? null : n;
}

const batchSchema = z.array(
  z.object({
    id: z.number(),
    response: z.object({ data: z.optional(z.unknown()), error_code: z.optional(z.string()), error_message: z.optional(z.string()) }),
  }),
);

/** The outcome of one batch item: the commit id it made, or the server's error. */
export type BatchOutcome = { ok: true; commitId: number | null } | { ok: false; code: string; message: string };

/**
 * Parses a `batch:` answer into outcomes by item id (items the server left out are absent).
 * @example parseBatchReply('[{"id":1,"response":{"data":"12"}}]') // Map { 1 => { ok: true, commitId: 12 } }
 */
export function parseBatchReply(payload: string): Map<number, BatchOutcome> {
  const r = batchSchema.safeParse(parseJson(payload, "batch"));
  if (!r.success) throw new AtServerError("AT0014", "server", "batch answered an unexpected shape");
  const out = new Map<number, BatchOutcome>();
  for (const item of r.data) {
    const { data, error_code, error_message } = item.response;
    if (error_code) out.set(item.id, { ok: false, code: error_code, message: error_message ?? "" });
    else {
      const n = Number(data);
      out.set(item.id, { ok: true, commitId: Number.isSafeInteger(n) && n >= 0 ? n : null });
    }
  }
  return out;
}
