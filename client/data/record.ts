/**
 * The JSON of an `llookup:all` / `lookup:all` reply, `{"key":...,"data":...,"metaData":{...}}`, validated
 * with zod because it comes from a server. Only the fields the SDK reads are typed; the rest pass through.
 */
import { z } from "zod/mini";
import { AtServerError } from "../errors.ts";

const metaSchema = z.looseObject({
  createdAt: z.optional(z.string()),
  updatedAt: z.optional(z.string()),
  expiresAt: z.optional(z.string()),
  availableAt: z.optional(z.string()),
  ttl: z.optional(z.number()),
  ttb: z.optional(z.number()),
  ttr: z.optional(z.number()),
  ccd: z.optional(z.boolean()),
  isBinary: z.optional(z.boolean()),
  isEncrypted: z.optional(z.boolean()),
  dataSignature: z.optional(z.string()),
  sharedKeyEnc: z.optional(z.string()),
  pubKeyCS: z.optional(z.string()),
  encoding: z.optional(z.string()),
  ivNonce: z.optional(z.string()),
});

const recordSchema = z.object({
  key: z.optional(z.string()),
  data: z.optional(z.nullable(z.string())),
  metaData: z.optional(z.nullable(metaSchema)),
});

/** Metadata of a stored key, as the server reports it. */
export type RecordMeta = z.infer<typeof metaSchema>;

/** A stored value with its metadata. `data` is the raw stored text (ciphertext for encrypted keys). */
export interface StoredRecord {
  key: string;
  data: string;
  meta: RecordMeta;
}

/**
 * Parses the payload of an `all` lookup; `null` when the key exists but is not active (`data:null`).
 * @example parseRecord('{"key":"x@alice","data":"v","metaData":{"isEncrypted":false}}', "x@alice")
 */
export function parseRecord(payload: string, requested: string): StoredRecord | null {
  if (payload === "null") return null;
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    throw new AtServerError("AT0014", "server", `Lookup of ${requested} returned something that is not JSON`);
  }
  const r = recordSchema.safeParse(json);
  if (!r.success) throw new AtServerError("AT0014", "server", `Lookup of ${requested} returned an unexpected record shape`);
  if (r.data.data === null || r.data.data === undefined) return null;
  return { key: r.data.key ?? requested, data: r.data.data, meta: r.data.metaData ?? {} };
}
