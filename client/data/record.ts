/**
 * The JSON of an `llookup:all` / `lookup:all` reply, `{"key":...,"data":...,"metaData":{...}}`, validated
 * with zod because it comes from a server. Only the fields the SDK reads are typed; the rest pass through.
 */
import { z } from "zod";
import { AtServerError } from "../errors.ts";

const metaSchema = z.looseObject({
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  expiresAt: z.string().optional(),
  availableAt: z.string().optional(),
  ttl: z.number().optional(),
  ttb: z.number().optional(),
  ttr: z.number().optional(),
  ccd: z.boolean().optional(),
  isBinary: z.boolean().optional(),
  isEncrypted: z.boolean().optional(),
  dataSignature: z.string().optional(),
  sharedKeyEnc: z.string().optional(),
  pubKeyCS: z.string().optional(),
  encoding: z.string().optional(),
  ivNonce: z.string().optional(),
});

const recordSchema = z.object({
  key: z.string().optional(),
  data: z.string().nullable().optional(),
  metaData: metaSchema.nullable().optional(),
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
