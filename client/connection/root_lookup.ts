/**
 * Finds an @sign's atServer through the directory (ATPROTOCOL.md §1): TLS, wait for `@`, send the @sign
 * without `@`, read `host:port\r\n@` or `null\r\n@`, say `@exit`. Answers are cached for an hour like the
 * Dart client does, in a bounded map; `forget` drops an entry when its server stopped answering.
 */
import { LineTooLongError, newLineBuffer, pushChunk } from "../../core/net/line_buffer.ts";
import { MAX_DIRECTORY_LINE_CHARS } from "../../core/wire/limits.ts";
import { AtNetworkError } from "../errors.ts";
import { connectTls } from "./tls_link.ts";

/** How long a directory answer is reused. */
export const ROOT_CACHE_TTL_MS = 60 * 60 * 1000;
/** Most @signs kept in the cache; the oldest entry goes first. */
export const ROOT_CACHE_MAX_ENTRIES = 1000;
/** Deadline for one directory lookup, connect included. */
export const ROOT_LOOKUP_TIMEOUT_MS = 10_000;

/** A server address. */
export interface HostPort {
  host: string;
  port: number;
}

/** Directory lookups for one directory address, with their cache. */
export interface RootResolver {
  readonly directory: HostPort;
  /** The atServer address of `atSign`; AtNetworkError (code AT0007) when the directory has no entry. */
  resolve(atSign: string): Promise<HostPort>;
  /** Drops the cached address of `atSign`. */
  forget(atSign: string): void;
}

/**
 * A resolver asking `directory`, trusting `ca`.
 * @example const root = rootResolver({ host: "127.0.0.1", port: 6464 }, trustedCas({ home })); await root.resolve("@alice");
 */
export function rootResolver(directory: HostPort, ca: string[], now: () => number = Date.now): RootResolver {
  const cache = new Map<string, HostPort & { expiresAt: number }>();
  return {
    directory,
    async resolve(atSign) {
      const hit = cache.get(atSign);
      if (hit && hit.expiresAt > now()) return { host: hit.host, port: hit.port };
      cache.delete(atSign);
      const found = await askDirectory(directory, ca, atSign);
      if (cache.size >= ROOT_CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value!);
      cache.set(atSign, { ...found, expiresAt: now() + ROOT_CACHE_TTL_MS });
      return found;
    },
    forget(atSign) {
      cache.delete(atSign);
    },
  };
}

async function askDirectory(directory: HostPort, ca: string[], atSign: string): Promise<HostPort> {
  const where = `${directory.host}:${directory.port}`;
  const lines = newLineBuffer(MAX_DIRECTORY_LINE_CHARS);
  let greeted = false;
  let settle: { resolve(line: string): void; reject(e: Error): void } | undefined;
  const answer = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  const link = await connectTls(
    { ...directory, ca },
    {
      data(chunk) {
        try {
          if (!greeted) {
            greeted = true;
            link.write(atSign.slice(1) + "\n");
            return;
          }
          const line = pushChunk(lines, chunk)[0];
          if (line !== undefined) settle?.resolve(line);
        } catch (e) {
          settle?.reject(new AtNetworkError(`Directory ${where} sent ${e instanceof LineTooLongError ? "an overlong" : "a bad"} reply`));
        }
      },
      closed: () => settle?.reject(new AtNetworkError(`Directory ${where} closed the connection before answering for ${atSign}`)),
    },
    ROOT_LOOKUP_TIMEOUT_MS,
  ).catch((e: AtNetworkError) => {
    throw new AtNetworkError(`Directory lookup of ${atSign} failed: ${e.message} (check --directory / INLAY_DIRECTORY)`, e.code);
  });
  const timer = setTimeout(
    () => settle?.reject(new AtNetworkError(`Directory ${where} did not answer for ${atSign} within ${ROOT_LOOKUP_TIMEOUT_MS} ms`, "AT0023")),
    ROOT_LOOKUP_TIMEOUT_MS,
  );
  try {
    const line = (await answer).replace(/^@/, "").trim();
    if (line === "null" || line === "") {
      throw new AtNetworkError(`${atSign} is not registered in the directory ${where} (check the @sign and --directory)`, "AT0007");
    }
    const colon = line.lastIndexOf(":");
    const port = Number(line.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new AtNetworkError(`Directory ${where} answered "${line.slice(0, 80)}" for ${atSign}, not host:port`);
    }
    return { host: line.slice(0, colon), port };
  } finally {
    clearTimeout(timer);
    link.write("@exit\n");
    link.close();
  }
}
