/**
 * The session leg of a tunnel: the first relay leg of a session (relay session id = the tunnel's session id).
 * It carries the authenticated X25519 key agreement (core/crypto/tunnel/handshake.ts) and then the session's
 * own control stream, sealed as stream 0 (core/crypto/tunnel/record.ts):
 *
 *   each side → peer   u32 BE n | its signed offer as JSON text (n ≤ TUNNEL_OFFER_MAX_CHARS)
 *   then               records under streamKeys(session, 0), whose plaintext is JSON lines:
 *                      {"t":"open","i":n}               requester: stream n is dialling the relay
 *                      {"t":"refused","i":n,"reason":…} device: stream n cannot be served (target down, …)
 *                      {"t":"ping"}                     either side, every keepalive period
 *
 * Data streams are separate relay legs with session id `<sid>.<n>` and keys streamKeys(session, n), n ≥ 1.
 * The session lives as long as this leg: when it closes, every stream of the session is ended by its owner.
 */
import { TUNNEL_OFFER_MAX_CHARS, type PendingTunnel, type TunnelSession, acceptTunnelOffer, encodeTunnelOffer, parseTunnelOffer, streamKeys } from "../../core/crypto/tunnel/handshake.ts";
import { newOpener, newSealer, open, seal, type TunnelOpener, type TunnelSealer } from "../../core/crypto/tunnel/record.ts";
import { TunnelError } from "../../core/crypto/tunnel/tunnel_error.ts";
import { type DialRelayOptions, type RelayLegSocket, dialRelay } from "../../core/relay/dial_relay.ts";
import { LineTooLongError, newLineBuffer, pushChunk } from "../../core/net/line_buffer.ts";
import { type WriteQueue, flush, newWriteQueue, send } from "../../core/net/write_queue.ts";

/** Longest session control line. */
export const SESSION_LINE_MAX_BYTES = 4096;
/** Bytes queued toward the session leg before the session is considered stuck and closed. */
export const SESSION_QUEUE_LIMIT_BYTES = 1024 * 1024;
/** The peer's offer must arrive within this time after pairing. */
export const SESSION_OFFER_TIMEOUT_MS = 10_000;
/**
 * Each side sends a ping this often. Why: the session leg is otherwise silent while the streams carry the bytes,
 * and the relay closes a pair idle for its idle timeout (15 min by default), which would end every stream.
 */
export const SESSION_KEEPALIVE_MS = 30_000;
/** A session from which nothing arrived for this many keepalive periods is considered dead and closed. */
export const SESSION_DEAD_AFTER_KEEPALIVES = 3;

/** A control line on the session leg. */
export type SessionMessage = { t: "open"; i: number } | { t: "refused"; i: number; reason: string } | { t: "ping" };

/** An established session. */
export interface SessionLink {
  session: TunnelSession;
  send(msg: SessionMessage): void;
  close(): void;
  /** Resolves with the reason once the leg is gone. */
  closed: Promise<string>;
}

/** What opening a session needs besides the relay leg options. */
export interface SessionLinkOptions {
  leg: Omit<DialRelayOptions, "handlers">;
  /** My offer, or a maker called once the relay dial has started (its signature then overlaps the connect). */
  mine: PendingTunnel | (() => PendingTunnel);
  /** The peer's `public:publickey`, to check its offer. */
  peerPublicKey: string;
  /**
   * A control message from the peer. `link` is the link it came on: messages that arrived in the same read as
   * the peer's offer are delivered before the caller's `await openSessionLink(...)` has resumed, so a handler
   * must not rely on having stored the link itself.
   */
  onMessage(msg: SessionMessage, link: SessionLink): void;
  /** Keepalive period (default SESSION_KEEPALIVE_MS). */
  keepaliveMs?: number;
  /** Runs every keepalive period while the session is open (the owner keeps its streams alive here). */
  onKeepalive?(): void;
}

type Phase = "offer" | "open" | "closed";

/**
 * Dials the session leg, exchanges offers and returns the running session.
 * Throws TunnelError("bad_handshake") when the peer's offer does not check out, RelayDialError when pairing fails.
 */
export function openSessionLink(opts: SessionLinkOptions): Promise<SessionLink> {
  return new Promise((resolve, reject) => {
    let phase: Phase = "offer";
    let sock: RelayLegSocket | null = null;
    let inbound = new Uint8Array(0);
    let sealer: TunnelSealer | null = null;
    let opener: TunnelOpener | null = null;
    const out: WriteQueue = newWriteQueue(SESSION_QUEUE_LIMIT_BYTES);
    const lines = newLineBuffer(SESSION_LINE_MAX_BYTES);
    let closedResolve!: (r: string) => void;
    const closed = new Promise<string>((r) => (closedResolve = r));
    let offerTimer: ReturnType<typeof setTimeout> | undefined;
    let keepalive: ReturnType<typeof setInterval> | undefined;
    let lastHeardMs = Date.now();
    const keepaliveMs = opts.keepaliveMs ?? SESSION_KEEPALIVE_MS;

    const shut = (reason: string, err?: Error) => {
      if (phase === "closed") return;
      const wasOpen = phase === "open";
      phase = "closed";
      clearTimeout(offerTimer);
      clearInterval(keepalive);
      sock?.end();
      closedResolve(reason);
      if (!wasOpen) reject(err ?? new TunnelError("bad_handshake", `Cannot set up the tunnel session: ${reason}`));
    };
    const write = (bytes: Uint8Array) => {
      if (!sock) return;
      const r = send(sock, out, bytes);
      if (r === "closed" || r === "overflow") shut(r === "closed" ? "session leg closed" : "session leg is not reading");
    };

    const link: SessionLink = {
      session: undefined as unknown as TunnelSession,
      send(msg) {
        if (phase !== "open" || !sealer) return;
        write(seal(sealer, new TextEncoder().encode(JSON.stringify(msg) + "\n")));
      },
      close: () => shut("closed"),
      closed,
    };

    const onOffer = (chunk: Uint8Array) => {
      const buf = inbound.byteLength ? Buffer.concat([inbound, chunk]) : chunk;
      if (buf.byteLength < 4) {
        inbound = new Uint8Array(buf);
        return;
      }
      const n = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(0);
      if (n > TUNNEL_OFFER_MAX_CHARS) throw new TunnelError("bad_handshake", "peer offer is too long");
      if (buf.byteLength < 4 + n) {
        inbound = new Uint8Array(buf);
        return;
      }
      const theirs = parseTunnelOffer(new TextDecoder().decode(buf.subarray(4, 4 + n)));
      const session = acceptTunnelOffer(mine!, theirs, opts.peerPublicKey);
      const keys = streamKeys(session, 0);
      sealer = newSealer(keys.sendKey);
      opener = newOpener(keys.receiveKey);
      link.session = session;
      phase = "open";
      inbound = new Uint8Array(0);
      clearTimeout(offerTimer);
      lastHeardMs = Date.now();
      keepalive = setInterval(() => {
        if (Date.now() - lastHeardMs > keepaliveMs * SESSION_DEAD_AFTER_KEEPALIVES) return shut(`nothing from the peer for ${SESSION_DEAD_AFTER_KEEPALIVES} keepalive periods`);
        link.send({ t: "ping" });
        opts.onKeepalive?.();
      }, keepaliveMs);
      resolve(link);
      if (buf.byteLength > 4 + n) onRecords(buf.subarray(4 + n));
    };

    const onRecords = (chunk: Uint8Array) => {
      lastHeardMs = Date.now();
      const ended = open(opener!, chunk, (pt) => {
        for (const line of pushChunk(lines, pt)) {
          let msg: unknown;
          try {
            msg = JSON.parse(line);
          } catch {
            throw new TunnelError("malformed", "session control line is not JSON");
          }
          if (isSessionMessage(msg) && msg.t !== "ping") opts.onMessage(msg, link);
        }
      });
      if (ended) shut("peer ended the session");
    };

    let mine: PendingTunnel | null = typeof opts.mine === "function" ? null : opts.mine;
    dialRelay({
      ...opts.leg,
      handlers: {
        data(_s, chunk) {
          try {
            if (phase === "offer") onOffer(chunk);
            else if (phase === "open") onRecords(chunk);
          } catch (e) {
            const why = e instanceof TunnelError || e instanceof LineTooLongError ? e.message : String(e);
            shut(why, e instanceof Error ? e : undefined);
          }
        },
        drain(s) {
          flush(s, out);
        },
        end: () => shut("peer closed the session"),
        close: () => shut("session leg closed"),
      },
    }).then(
      (s) => {
        sock = s;
        if (phase === "closed") {
          s.end();
          return;
        }
        const offer = new TextEncoder().encode(encodeTunnelOffer(mine!.offer));
        const frame = new Uint8Array(4 + offer.byteLength);
        new DataView(frame.buffer).setUint32(0, offer.byteLength);
        frame.set(offer, 4);
        write(frame);
        if (phase === "offer") offerTimer = setTimeout(() => shut("no offer from the peer in time"), SESSION_OFFER_TIMEOUT_MS);
      },
      (e: Error) => shut(e.message, e),
    );
    mine ??= (opts.mine as () => PendingTunnel)();
  });
}

function isSessionMessage(m: unknown): m is SessionMessage {
  if (typeof m !== "object" || m === null) return false;
  const r = m as Record<string, unknown>;
  if (r.t === "ping") return true;
  if (!Number.isInteger(r.i) || (r.i as number) < 1 || (r.i as number) > 0xffff_ffff) return false;
  return r.t === "open" || (r.t === "refused" && typeof r.reason === "string");
}
