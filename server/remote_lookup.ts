/**
 * Reading another @sign's public data: find its server through the directory (root protocol), then ask that
 * server `lookup:all:<key>@<other>` without authenticating. Directory answers are cached briefly.
 */
import * as z from "zod/mini";
import { AtProtocolError } from "../core/wire/index.ts";
import { exchangeLines, type RemoteEndpoint } from "./line_client.ts";

/** How long a directory answer is reused. */
export const DIRECTORY_CACHE_TTL_MS = 5 * 60_000;
/** Directory answers kept at once. */
export const DIRECTORY_CACHE_MAX_ENTRIES = 1_000;

/** What `lookup:all` returns: the key as the remote names it, the value and its metadata JSON. */
export interface RemoteRecord {
  key: string;
  data: string | null;
  metaData: Record<string, unknown>;
}

const remoteRecordSchema = z.object({
  key: z.string(),
  data: z.optional(z.nullable(z.string())),
  metaData: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
});

/** Fetches public records of other @signs. */
export interface RemoteLookup {
  /** The record, or null when the remote has no such (active) key. Throws AT0007/AT0021 on lookup failures. */
  lookupPublic(key: string, atSign: string): Promise<RemoteRecord | null>;
  /** Where `atSign`'s server is, per the directory (cached). Throws AT0007/AT0021. */
  resolve(atSign: string): Promise<{ host: string; port: number }>;
  /** Drops the cached address of `atSign` (after a failed connect: the server may have moved). */
  forget(atSign: string): void;
  /** The CAs trusted for the directory and other servers. */
  readonly ca: string[];
}

/**
 * Creates the client; `directory.ca` also verifies the other servers (one private CA in a dev setup, or the
 * system roots in production).
 */
export function newRemoteLookup(directory: RemoteEndpoint): RemoteLookup {
  const cache = new Map<string, { host: string; port: number; at: number }>();

  const resolve = async (atSign: string): Promise<{ host: string; port: number }> => {
    const hit = cache.get(atSign);
    if (hit && Date.now() - hit.at < DIRECTORY_CACHE_TTL_MS) return hit;
    let answer: string;
    try {
      [answer = "null"] = await exchangeLines(directory, [atSign.slice(1)]);
    } catch (err) {
      throw new AtProtocolError("AT0021", `Unable to reach the directory: ${(err as Error).message}`);
    }
    const m = /^(.+):(\d{1,5})$/.exec(answer.trim());
    if (!m) throw new AtProtocolError("AT0007", `${atSign} is not registered in the directory`);
    const addr = { host: m[1]!, port: Number(m[2]), at: Date.now() };
    if (cache.size >= DIRECTORY_CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(atSign, addr);
    return addr;
  };

  return {
    resolve,
    forget: (atSign) => void cache.delete(atSign),
    ca: directory.ca,
    async lookupPublic(key, atSign) {
      const addr = await resolve(atSign);
      let answer: string;
      try {
        [answer = ""] = await exchangeLines({ ...addr, ca: directory.ca }, [`lookup:all:${key}${atSign}`]);
      } catch (err) {
        cache.delete(atSign);
        throw new AtProtocolError("AT0021", `Unable to connect to the server of ${atSign}: ${(err as Error).message}`);
      }
      if (answer === "data:null" || answer.startsWith("error:AT0015") || answer.includes('"AT0015"')) return null;
      if (!answer.startsWith("data:")) throw new AtProtocolError("AT0021", `The server of ${atSign} answered: ${answer.slice(0, 200)}`);
      let parsed: z.infer<typeof remoteRecordSchema>;
      try {
        parsed = remoteRecordSchema.parse(JSON.parse(answer.slice(5)));
      } catch {
        throw new AtProtocolError("AT0021", `The server of ${atSign} sent a malformed record`);
      }
      return { key: parsed.key, data: parsed.data ?? null, metaData: parsed.metaData ?? {} };
    },
  };
}
