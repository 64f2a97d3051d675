/**
 * The outbound server-to-server pool: at most one authenticated session per remote @sign, reused by every
 * caller (notification delivery, shared lookups), opened on demand, closed when idle, bounded in total.
 * A failed connect forgets the directory's answer for that @sign, since its server may have moved.
 * Creating the pool advertises that this server signs the bound form of the s2s proof.
 */
import { toBase64, utf8 } from "../../core/crypto/encoding.ts";
import { rsaSignSha256 } from "../../core/crypto/rsa_webcrypto.ts";
import { logger } from "../../core/log.ts";
import { AtProtocolError, CHALLENGE_TTL_MS, type ParsedResponse } from "../../core/wire/index.ts";
import type { ServerContext } from "../context.ts";
import { cachedMetaFromRemote } from "../format.ts";
import { freshMeta } from "../server_keys.ts";
import { openSession, type OutboundSession } from "./outbound_session.ts";
import { BOUND_POL_VERSION, boundPolAdvertKey } from "./pol_proof.ts";

/** Sessions open at once (the reference's outbound pool size). */
export const OUTBOUND_MAX_SESSIONS = 200;
/** A session unused this long is closed (the reference's 10 min). */
export const OUTBOUND_IDLE_MS = 10 * 60_000;
/** How often idle sessions are looked for. */
const IDLE_CHECK_INTERVAL_MS = 5_000;

const log = logger("s2s");

/** The pool of one server. */
export interface OutboundPool {
  /** An authenticated session to `atSign`'s server (opened when needed). Throws AT0007/AT0021/AT0008/AT0006. */
  session(atSign: string): Promise<OutboundSession>;
  /** Shorthand: one request on the session to `atSign`. */
  request(atSign: string, line: string, timeoutMs?: number): Promise<ParsedResponse>;
  /** Open sessions (stats id 2). */
  count(): number;
  stop(): void;
}

/** Options beyond the server context. */
export interface PoolOptions {
  tls: { key: string; cert: string };
  maxSessions?: number;
  idleMs?: number;
  /**
   * Requests in flight per session. Inlay servers answer pipelined lines in order; a reference (Dart) atServer
   * reads one command per read, so talking to one needs 1.
   */
  maxInFlight?: number;
}

/**
 * Says, at this server, that @us signs the bound form (s2s/pol_proof.ts): a callee that reads it here refuses a
 * reference-form proof in our name, so an operator who relays its challenge to us cannot downgrade. Written at
 * every start (the owner could delete it); hidden and uncommitted, so it is never listed nor synced.
 */
function advertiseBoundPol(ctx: ServerContext): void {
  const key = boundPolAdvertKey(ctx.atSign);
  if (ctx.keystore.get(key)?.value !== BOUND_POL_VERSION) ctx.keystore.put({ key, value: BOUND_POL_VERSION, meta: freshMeta(ctx.atSign) }, "+");
}

/**
 * Creates the pool of the server `ctx`; needs `ctx.remote` (the directory) to find other servers.
 * @example const pool = newOutboundPool(ctx, { tls }); const r = await pool.request("@bob", "lookup:all:x@bob");
 */
export function newOutboundPool(ctx: ServerContext, opts: PoolOptions): OutboundPool {
  advertiseBoundPol(ctx);
  const maxSessions = opts.maxSessions ?? OUTBOUND_MAX_SESSIONS;
  const idleMs = opts.idleMs ?? OUTBOUND_IDLE_MS;
  const sessions = new Map<string, OutboundSession>();
  const opening = new Map<string, Promise<OutboundSession>>();
  let stopped = false;

  const signingKey = () => {
    const v = ctx.keystore.get(`${ctx.atSign}:signing_privatekey${ctx.atSign}`)?.value;
    if (!v) throw new AtProtocolError("AT0008", "Handshake failure: this server has no signing key");
    return v;
  };

  const open = async (atSign: string): Promise<OutboundSession> => {
    const remote = ctx.remote;
    if (!remote) throw new AtProtocolError("AT0007", `Secondary server not found: this server has no directory to find ${atSign}`);
    const addr = await remote.resolve(atSign);
    try {
      return await openSession({
        ownAtSign: ctx.atSign,
        remoteAtSign: atSign,
        host: addr.host,
        port: addr.port,
        ca: remote.ca,
        tls: opts.tls,
        maxInFlight: opts.maxInFlight,
        signProof: async (proof) => toBase64(await rsaSignSha256(signingKey(), utf8(proof))),
        publishProof(sessionKey, signature) {
          if (ctx.keystore.get(`public:${sessionKey}`)) throw new AtProtocolError("AT0008", `Handshake failure: ${sessionKey} is already published`);
          const now = Date.now();
          const meta = { ...freshMeta(ctx.atSign, now), ttl: CHALLENGE_TTL_MS, expiresAt: now + CHALLENGE_TTL_MS };
          ctx.keystore.put({ key: `public:${sessionKey}`, value: signature, meta }, "+");
          ctx.expiryChanged(meta.expiresAt);
        },
        retractProof: (sessionKey) => void ctx.keystore.remove(`public:${sessionKey}`),
        onPublicKey(json) {
          try {
            const r = JSON.parse(json) as { data?: unknown; metaData?: Record<string, unknown> };
            if (typeof r.data !== "string") return;
            const key = `cached:public:publickey${atSign}`;
            const meta = cachedMetaFromRemote(r.metaData ?? {}, ctx.atSign, ctx.keystore.get(key)?.meta ?? null, true);
            if (meta && ctx.keystore.get(key)?.value !== r.data) ctx.keystore.put({ key, value: r.data, meta }, "*");
          } catch {
            // A malformed answer only means no cache refresh.
          }
        },
      });
    } catch (err) {
      ctx.metrics.outbound.failed++;
      remote.forget(atSign);
      throw err;
    }
  };

  // At the bound, the least recently used idle session is closed; when every session is busy, AT0006.
  const makeRoom = () => {
    if (sessions.size + opening.size < maxSessions) return;
    let lru: OutboundSession | undefined;
    for (const s of sessions.values()) if (s.pending() === 0 && (!lru || s.lastUsedAt < lru.lastUsedAt)) lru = s;
    if (!lru) throw new AtProtocolError("AT0006", "Outbound connection limit exceeded");
    lru.close();
    sessions.delete(lru.remoteAtSign);
  };

  const session = async (atSign: string): Promise<OutboundSession> => {
    if (stopped) throw new AtProtocolError("AT0021", "Server is stopping");
    const s = sessions.get(atSign);
    if (s && !s.isClosed()) return s;
    sessions.delete(atSign);
    let p = opening.get(atSign);
    if (!p) {
      makeRoom();
      p = open(atSign).finally(() => opening.delete(atSign));
      opening.set(atSign, p);
      const opened = await p;
      if (stopped) {
        opened.close();
        throw new AtProtocolError("AT0021", "Server is stopping");
      }
      sessions.set(atSign, opened);
      ctx.metrics.outbound.opened++;
      log.debug("s2s session open");
      return opened;
    }
    return await p;
  };

  const idleTimer = setInterval(() => {
    const now = Date.now();
    for (const [a, s] of sessions) {
      if (s.isClosed() || (s.pending() === 0 && now - s.lastUsedAt > idleMs)) {
        s.close();
        sessions.delete(a);
      }
    }
  }, Math.min(IDLE_CHECK_INTERVAL_MS, idleMs));
  idleTimer.unref();

  return {
    session,
    async request(atSign, line, timeoutMs) {
      return await (await session(atSign)).request(line, timeoutMs);
    },
    count: () => sessions.size,
    stop() {
      stopped = true;
      clearInterval(idleTimer);
      for (const s of sessions.values()) s.close();
      sessions.clear();
    },
  };
}
