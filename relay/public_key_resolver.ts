/**
 * Finding an @sign's public key: `public:publickey@<atsign>` read from the @sign's own server, whose address
 * the directory gives. Wrapped in a cache with expiry, a size bound and one lookup in flight per @sign, so
 * 100 legs arriving together cost one lookup; "no such @sign" is cached apart (its own bound, a short
 * lifetime), so a flood of invented names cannot push the known keys out. Lookups that miss the cache are
 * budgeted per requesting address and per /24 or /64 (core/net/window_counter.ts), and bounded in flight, so
 * unauthenticated legs naming random @signs cannot make the relay hammer the directory.
 */
import { canonicalAddress, networkPrefix } from "../core/net/address_prefix.ts";
import { countEvent, newWindowCounter, retryAfterMs } from "../core/net/window_counter.ts";
import { type WriteQueue, flush, newWriteQueue, send } from "../core/net/write_queue.ts";

/**
 * Returns the base64 public key of `atSign` ("@alice"), or null when the @sign or its key does not exist.
 * `requester` is the address of the leg that asks (the lookup budgets key on it); throws LookupThrottled
 * when it has had its share.
 */
export type ResolvePublicKey = (atSign: string, requester?: string) => Promise<string | null>;

/** How long a found key is trusted before it is fetched again. */
export const PUBLIC_KEY_TTL_MS = 5 * 60_000;
/** How long "no such @sign or key" is remembered (short: a new @sign should work soon). */
export const PUBLIC_KEY_NEGATIVE_TTL_MS = 30_000;
/** Most @signs kept in each of the two caches (found, not found); the oldest entry goes first. */
export const PUBLIC_KEY_CACHE_ENTRIES = 10_000;
/** Lookups past the cache one requesting address may cause per lookup window. */
export const LOOKUPS_PER_ADDRESS = 60;
/** The same for one /24 (IPv4) or /64 (IPv6). */
export const LOOKUPS_PER_PREFIX = 240;
/** Length of a lookup window. */
export const LOOKUP_WINDOW_MS = 10_000;
/** Directory lookups running at once, for all requesters together. */
export const LOOKUPS_IN_FLIGHT_MAX = 64;
/** Requesting addresses and prefixes tracked at once (the window counters forget the oldest). */
const LOOKUP_BUDGET_KEYS_MAX = 100_000;
/** Deadline of one directory or server exchange. */
export const AT_LOOKUP_TIMEOUT_MS = 5_000;
/** Longest reply line accepted from a directory or server (an RSA-4096 key in base64 is ~740 bytes). */
export const AT_LOOKUP_REPLY_MAX_BYTES = 64 * 1024;

/** A lookup was not run: the requester had its share of lookups, or too many are in flight. */
export class LookupThrottled extends Error {
  override name = "LookupThrottled";
}

/** Options of cachedResolver; every one has a default above. */
export interface CachedResolverOptions {
  ttlMs?: number;
  negativeTtlMs?: number;
  maxEntries?: number;
  lookupsPerAddress?: number;
  lookupsPerPrefix?: number;
  lookupWindowMs?: number;
  maxInFlight?: number;
  nowMs?: () => number;
}

interface Cached {
  key: string | null;
  expiresMs: number;
}

/**
 * Wraps `inner` with bounded, expiring caches and the lookup budgets. Lookup failures (throws) are not cached.
 * @example const resolve = cachedResolver(directoryResolver({ host, port, ca }));
 */
export function cachedResolver(inner: ResolvePublicKey, opts: CachedResolverOptions = {}): ResolvePublicKey {
  const ttl = opts.ttlMs ?? PUBLIC_KEY_TTL_MS;
  const negativeTtl = opts.negativeTtlMs ?? PUBLIC_KEY_NEGATIVE_TTL_MS;
  const max = opts.maxEntries ?? PUBLIC_KEY_CACHE_ENTRIES;
  const maxInFlight = opts.maxInFlight ?? LOOKUPS_IN_FLIGHT_MAX;
  const now = opts.nowMs ?? Date.now;
  const found = new Map<string, Cached>();
  const unknown = new Map<string, Cached>();
  const inFlight = new Map<string, Promise<string | null>>();
  const windowMs = opts.lookupWindowMs ?? LOOKUP_WINDOW_MS;
  const budget = (n: number) => newWindowCounter({ max: n, windowMs, maxKeys: LOOKUP_BUDGET_KEYS_MAX });
  const byAddress = budget(opts.lookupsPerAddress ?? LOOKUPS_PER_ADDRESS);
  const byPrefix = budget(opts.lookupsPerPrefix ?? LOOKUPS_PER_PREFIX);

  const admitLookup = (atSign: string, requester: string | undefined) => {
    if (inFlight.size >= maxInFlight) throw new LookupThrottled(`Cannot look up ${atSign}: ${maxInFlight} lookups are running`);
    if (requester === undefined) return;
    const address = canonicalAddress(requester);
    const prefix = networkPrefix(address);
    const t = now();
    if (retryAfterMs(byAddress, address, t) > 0 || retryAfterMs(byPrefix, prefix, t) > 0) {
      throw new LookupThrottled(`Cannot look up ${atSign}: ${address} had its share of lookups`);
    }
    countEvent(byAddress, address, t);
    countEvent(byPrefix, prefix, t);
  };

  return (atSign, requester) => {
    for (const cache of [found, unknown]) {
      const hit = cache.get(atSign);
      if (hit && hit.expiresMs > now()) return Promise.resolve(hit.key);
    }
    const running = inFlight.get(atSign);
    if (running) return running;
    try {
      admitLookup(atSign, requester);
    } catch (e) {
      return Promise.reject(e);
    }
    const p = inner(atSign)
      .then((key) => {
        found.delete(atSign);
        unknown.delete(atSign);
        remember(key === null ? unknown : found, max, atSign, { key, expiresMs: now() + (key === null ? negativeTtl : ttl) });
        return key;
      })
      .finally(() => inFlight.delete(atSign));
    inFlight.set(atSign, p);
    return p;
  };
}

function remember(cache: Map<string, Cached>, max: number, atSign: string, entry: Cached): void {
  if (cache.size >= max) cache.delete(cache.keys().next().value!);
  cache.set(atSign, entry);
}

/** Where the directory is and which CAs to trust for it and for the servers it names. */
export interface DirectoryResolverOptions {
  host: string;
  port: number;
  /** The CA list, or a function that builds it on the first lookup (core/net/tls.ts trustedCasLater). */
  ca: string[] | (() => string[]);
  timeoutMs?: number;
}

/**
 * The production resolver: root lookup (`alice\n` → `host:port`), then an unauthenticated
 * `lookup:publickey@alice` on that server, both over TLS.
 */
export function directoryResolver(opts: DirectoryResolverOptions): ResolvePublicKey {
  return async (atSign) => {
    const name = atSign.replace(/^@/, "");
    const ca = typeof opts.ca === "function" ? opts.ca() : opts.ca;
    const root = await atExchange(opts.host, opts.port, ca, `${name}\n`, opts.timeoutMs);
    if (root === "null" || root === "") return null;
    const colon = root.lastIndexOf(":");
    const host = root.slice(0, colon);
    const port = Number(root.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`Cannot resolve ${atSign}: directory replied "${root.slice(0, 80)}"`);
    const reply = await atExchange(host, port, ca, `lookup:publickey@${name}\n`, opts.timeoutMs);
    if (reply.startsWith("data:")) return reply.slice(5).trim() || null;
    // AT0015 (key not found) and AT0008/AT0017-style "no such @sign" answers mean: no key.
    if (/^error:AT00(15|08|17)/.test(reply)) return null;
    throw new Error(`Cannot resolve ${atSign}: server replied "${reply.slice(0, 80)}"`);
  };
}

interface Exchange {
  line: string;
  prompted: boolean;
  text: string;
  out: WriteQueue;
  done(err: Error | null, reply?: string): void;
}

/**
 * One request on an atProtocol TLS endpoint: wait for the `@` prompt, send `line`, return the first reply line
 * (without `\r`), then say `@exit` and close.
 */
function atExchange(host: string, port: number, ca: string[], line: string, timeoutMs = AT_LOOKUP_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => state.done(new Error(`Cannot look up on ${host}:${port}: timed out`)), timeoutMs);
    const state: Exchange = {
      line,
      prompted: false,
      text: "",
      out: newWriteQueue(AT_LOOKUP_REPLY_MAX_BYTES),
      done(err, reply) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(reply!);
      },
    };
    const decoder = new TextDecoder();
    Bun.connect<Exchange>({
      hostname: host,
      port,
      tls: { ca, serverName: host },
      data: state,
      socket: {
        data(s, chunk) {
          s.data.text += decoder.decode(chunk, { stream: true });
          if (s.data.text.length > AT_LOOKUP_REPLY_MAX_BYTES) {
            s.data.done(new Error(`Cannot look up on ${host}:${port}: reply too long`));
            s.end();
            return;
          }
          if (!s.data.prompted) {
            if (!s.data.text.includes("@")) return;
            s.data.prompted = true;
            s.data.text = "";
            send(s, s.data.out, s.data.line);
            return;
          }
          const nl = s.data.text.indexOf("\n");
          if (nl < 0) return;
          s.data.done(null, s.data.text.slice(0, nl).replace(/\r$/, ""));
          send(s, s.data.out, "@exit\n");
          s.end();
        },
        drain(s) {
          flush(s, s.data.out);
        },
        close(s) {
          s.data.done(new Error(`Cannot look up on ${host}:${port}: connection closed`));
        },
        error(s, err) {
          s.data.done(err);
        },
        connectError(_s, err) {
          state.done(new Error(`Cannot connect to ${host}:${port}: ${err.message}`));
        },
      },
    }).catch((e: Error) => state.done(new Error(`Cannot connect to ${host}:${port}: ${e.message}`)));
  });
}
