/**
 * The device daemon: listens for tunnel requests on its control channel (one outbound connection to its own
 * atServer), refuses @signs outside the allow list and targets outside the permits (saying why), answers pings,
 * and for an accepted request dials the relay as side `b`, agrees the session keys with the requester over that
 * leg (session_link.ts) and serves each stream the requester opens: connect the target, dial the stream's relay
 * leg, pipe (stream_pipe.ts).
 *
 * Relay fleets: a permitted requester's `probe` is answered with this device's round trip to each relay (probed
 * in parallel, each within RELAY_PROBE_TIMEOUT_MS), and a relay the daemon cannot join is reported in the ack
 * (`relay: true`) so the requester tries the next one.
 *
 * Revocation: `setAllowed` with a shorter list ends every live session (and its streams) of a removed @sign, and
 * so does adding an @sign to the atServer's block list (`config:block:add`, polled every BLOCK_LIST_POLL_MS).
 */
import { requireHostPort } from "../../core/host_port.ts";
import type { Socket } from "bun";
import { normalizeAtSign } from "../../core/atsign.ts";
import type { AtKeys } from "../../core/crypto/index.ts";
import { createTunnelOffer, streamKeys } from "../../core/crypto/tunnel/handshake.ts";
import { logger } from "../../core/log.ts";
import { RelayDialError } from "../../core/relay/dial_relay.ts";
import { probeRelay } from "../../core/relay/probe_relay.ts";
import type { AtClient } from "../at_client.ts";
import type { ControlChannel } from "./control_channel.ts";
import type { ControlMessage } from "./control_message.ts";
import { type Permit, isPermitted, permitText } from "./permits.ts";
import { probeResult } from "./relay_choice.ts";
import { type SessionLink, openSessionLink } from "./session_link.ts";
import { type StreamPipe, abortStream, attachPlain, keepStreamAlive, newStreamPipe, plainClosed, plainData, plainDrain, plainEnd, queuedBytes } from "./stream_pipe.ts";
import { dialStreamLeg } from "./stream_leg.ts";

/** Live sessions one daemon serves at once. */
export const DAEMON_SESSIONS_MAX = 256;
/** Live streams per session. */
export const SESSION_STREAMS_MAX = 1024;
/** Deadline to connect to a target. */
export const TARGET_CONNECT_TIMEOUT_MS = 5_000;
/** What the daemon advertises in pongs. */
export const DAEMON_FEATURES = ["tunnel-v1", "x25519-signed-offers", "aes-256-gcm-records", "per-stream-legs", "half-close", "revocation", "relay-probe"];
/** How often the daemon re-reads its atServer's block list (a newly blocked @sign loses its tunnels). */
export const BLOCK_LIST_POLL_MS = 5_000;
/** Probe requests (relay fleet measurements) served at once; more are dropped (the requester then decides alone). */
export const DAEMON_PROBES_MAX = 8;
/** Daemon software version (advertised in pongs). */
export const DAEMON_VERSION = "0.1.0";

const log = logger("daemon");

/** How to run a daemon. */
export interface DaemonOptions {
  client: AtClient;
  keys: AtKeys;
  channel: ControlChannel;
  /** Device name (several daemons can share one @sign). */
  name: string;
  permits: Permit[];
  /** @signs that may open tunnels; `"*"` admits every @sign not on the block list. */
  allow: string[];
  /**
   * Serves a stream in process instead of connecting the target: `peer` is the requester's @sign as verified by
   * the session's key agreement (its signed offer). Attach a plain side to `pipe` (attachPlain); a rejection
   * refuses the stream like an unreachable target.
   */
  serveStream?(peer: string, pipe: StreamPipe): Promise<void>;
  /** Block list poll period (default BLOCK_LIST_POLL_MS). */
  blockListPollMs?: number;
  /** Session keepalive period (default SESSION_KEEPALIVE_MS). */
  keepaliveMs?: number;
}

/** A running daemon. */
export interface Daemon {
  /** Replaces the allow list; sessions of @signs no longer on it end at once. */
  setAllowed(atSigns: string[]): void;
  /** Answers a control message that failed verification (wire it to the channel's onRejected). */
  rejected(from: string, sid: string | null, reason: string): void;
  /** Live sessions and streams (for tests and status output). */
  counts(): { sessions: number; streams: number; queuedBytes: number };
  stop(): void;
}

interface LiveSession {
  sid: string;
  peer: string;
  target: { host: string; port: number };
  relay: { host: string; port: number; atSign?: string };
  link: SessionLink | null;
  streams: Map<number, StreamPipe>;
  ended: boolean;
}

/**
 * Starts serving requests from `opts.channel`.
 * @example const d = startDaemon({ client, keys, channel, name: "default", permits: [parsePermit("127.0.0.1:22")], allow: ["@bob"] });
 */
export function startDaemon(opts: DaemonOptions): Daemon {
  const me = opts.client.atSign;
  const atSigns = (list: string[]) => new Set(list.map((a) => (a === "*" ? a : normalizeAtSign(a))));
  let allow = atSigns(opts.allow);
  let blocked = new Set<string>();
  const allowed = (atSign: string) => allow.has("*") || allow.has(atSign);
  const permitted = (atSign: string) => allowed(atSign) && !blocked.has(atSign);
  const sessions = new Map<string, LiveSession>();
  let stopped = false;

  const reply = (to: string, msg: ControlMessage) =>
    opts.channel.send(to, msg).catch((e: unknown) => log.warn("cannot send control message", { to, error: String(e) }));

  const endSession = (s: LiveSession, why: string) => {
    if (s.ended) return;
    s.ended = true;
    sessions.delete(s.sid);
    for (const p of s.streams.values()) abortStream(p, why);
    s.streams.clear();
    s.link?.close();
    log.info("session ended", { sid: s.sid, peer: s.peer, why });
  };

  const refusal = (from: string, msg: Extract<ControlMessage, { t: "request" }>): string | null => {
    if (!allowed(from)) return `${from} is not allowed to open tunnels to ${me} (device ${opts.name})`;
    if (blocked.has(from)) return `${from} is blocked by ${me}`;
    if (msg.device !== opts.name) return `no device named ${msg.device} here`;
    const target = requireHostPort(msg.target, "tunnel target");
    if (!isPermitted(opts.permits, target)) return `target ${msg.target} is not permitted on ${me} (permitted: ${opts.permits.map(permitText).join(", ") || "none"})`;
    if (sessions.has(msg.sid)) return `session ${msg.sid} already exists`;
    if (sessions.size >= DAEMON_SESSIONS_MAX) return `device ${opts.name} is serving its maximum of ${DAEMON_SESSIONS_MAX} sessions`;
    return null;
  };

  const onRequest = async (from: string, msg: Extract<ControlMessage, { t: "request" }>) => {
    const why = refusal(from, msg);
    if (why) {
      log.warn("request refused", { from, sid: msg.sid, why });
      return reply(from, { t: "ack", sid: msg.sid, ok: false, reason: why });
    }
    const relay = { ...requireHostPort(msg.relay, "relay address"), ...(msg.relayAtSign ? { atSign: msg.relayAtSign } : {}) };
    const s: LiveSession = { sid: msg.sid, peer: from, target: requireHostPort(msg.target, "tunnel target"), relay, link: null, streams: new Map(), ended: false };
    sessions.set(s.sid, s);
    // No ack on success: the requester learns it from the session leg pairing, and an ack would cost an RSA
    // signature on the critical path.
    try {
      const key = { algo: "rsa2048" as const, privateKey: opts.keys.encryptionPrivateKey };
      const link = await openSessionLink({
        leg: { host: relay.host, port: relay.port, sessionId: s.sid, side: "b", atSign: me, peerAtSign: from, key, ...(relay.atSign ? { relayAtSign: relay.atSign } : {}) },
        mine: () => createTunnelOffer({ sessionId: s.sid, role: "responder", atSign: me, peerAtSign: from, key }),
        peerPublicKey: await opts.client.publicKeyOf(from),
        ...(opts.keepaliveMs ? { keepaliveMs: opts.keepaliveMs } : {}),
        onMessage: (m, link) => {
          if (m.t === "open") openStream(s, link, m.i);
        },
        onKeepalive: () => {
          for (const p of s.streams.values()) keepStreamAlive(p);
        },
      });
      s.link = link;
      if (s.ended) return link.close();
      log.info("session open", { sid: s.sid, peer: from, target: msg.target });
      void link.closed.then((reason) => endSession(s, reason));
    } catch (e) {
      log.warn("session setup failed", { sid: s.sid, peer: from, error: String(e) });
      if (e instanceof RelayDialError && !s.ended) void reply(from, { t: "ack", sid: s.sid, ok: false, reason: `${me} cannot join the relay: ${e.message}`, relay: true });
      endSession(s, "setup failed");
    }
  };

  let probing = 0;
  const onProbe = async (from: string, msg: Extract<ControlMessage, { t: "probe" }>) => {
    if (probing >= DAEMON_PROBES_MAX) return log.warn("probe dropped: too many at once", { from });
    probing++;
    try {
      const probes = await Promise.all(msg.relays.map((r) => probeRelay({ ...requireHostPort(r, "relay address"), ...(msg.relayAtSign ? { atSign: msg.relayAtSign } : {}) })));
      await reply(from, { t: "probed", pid: msg.pid, results: probes.map(probeResult) });
    } finally {
      probing--;
    }
  };

  // `link` comes with the message: an `open` can arrive in the same read as the peer's offer, before `s.link` is
  // set. Regression: dropping such an open left the requester's first stream waiting until its deadline.
  const openStream = (s: LiveSession, link: SessionLink, i: number) => {
    if (s.ended) return;
    if (s.streams.has(i) || s.streams.size >= SESSION_STREAMS_MAX) return link.send({ t: "refused", i, reason: `stream ${i} refused: duplicate or over ${SESSION_STREAMS_MAX} streams` });
    const pipe = newStreamPipe(streamKeys(link.session, i), (e) => {
      s.streams.delete(i);
      if (e.reason !== "done") log.debug("stream aborted", { sid: s.sid, i, reason: e.reason });
    });
    s.streams.set(i, pipe);
    dialStreamLeg(pipe, { relay: s.relay, sessionId: `${s.sid}.${i}`, side: "b", atSign: me, peerAtSign: s.peer, encryptionPrivateKey: opts.keys.encryptionPrivateKey });
    (opts.serveStream ? opts.serveStream(s.peer, pipe) : connectTarget(s.target, pipe)).catch((e: Error) => {
      link.send({ t: "refused", i, reason: `cannot connect to ${s.target.host}:${s.target.port} on ${me}: ${e.message}` });
      abortStream(pipe, "target unreachable");
    });
  };

  const consume = async () => {
    for await (const { from, msg } of opts.channel.messages()) {
      if (stopped) return;
      if (msg.t === "request") void onRequest(from, msg);
      else if (msg.t === "probe" && permitted(from) && msg.device === opts.name) void onProbe(from, msg);
      else if (msg.t === "ping" && permitted(from) && msg.device === opts.name) {
        void reply(from, { t: "pong", pid: msg.pid, name: opts.name, version: DAEMON_VERSION, features: DAEMON_FEATURES, permits: opts.permits.map(permitText) });
      }
    }
  };
  void consume().catch((e: unknown) => log.error("control loop failed", { error: String(e) }));

  const revokeUnpermitted = (why: (peer: string) => string) => {
    for (const s of [...sessions.values()]) if (!permitted(s.peer)) endSession(s, why(s.peer));
  };
  const readBlockList = async () => {
    try {
      const text = await opts.client.command("config:block:show");
      const list: unknown = text === "null" ? [] : JSON.parse(text);
      if (!Array.isArray(list)) return;
      blocked = new Set(list.filter((a): a is string => typeof a === "string").map(normalizeAtSign));
      revokeUnpermitted((peer) => `${peer} was blocked`);
    } catch (e) {
      log.warn("cannot read the block list", { error: String(e) });
    }
  };
  void readBlockList();
  const blockPoll = setInterval(() => void readBlockList(), opts.blockListPollMs ?? BLOCK_LIST_POLL_MS);

  return {
    setAllowed(list) {
      allow = atSigns(list);
      revokeUnpermitted((peer) => `${peer} was removed from the allow list`);
    },
    rejected(from, sid, reason) {
      if (sid && !stopped) void reply(from, { t: "ack", sid, ok: false, reason: `request refused: ${reason}` });
    },
    counts: () => {
      const all = [...sessions.values()].flatMap((s) => [...s.streams.values()]);
      return { sessions: sessions.size, streams: all.length, queuedBytes: all.reduce((n, p) => n + queuedBytes(p), 0) };
    },
    stop() {
      stopped = true;
      clearInterval(blockPoll);
      for (const s of [...sessions.values()]) endSession(s, "daemon stopping");
      opts.channel.close();
    },
  };
}

/** Connects the target service and attaches it to the pipe once open. */
function connectTarget(target: { host: string; port: number }, pipe: StreamPipe): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection within ${TARGET_CONNECT_TIMEOUT_MS} ms`)), TARGET_CONNECT_TIMEOUT_MS);
    Bun.connect<{ pipe: StreamPipe }>({
      hostname: target.host,
      port: target.port,
      allowHalfOpen: true,
      data: { pipe },
      socket: {
        binaryType: "uint8array",
        open(sock: Socket<{ pipe: StreamPipe }>) {
          clearTimeout(timer);
          if (pipe.finished) return void sock.terminate();
          attachPlain(pipe, sock);
          resolve();
        },
        data: (sock, chunk) => plainData(sock.data.pipe, chunk),
        drain: (sock) => plainDrain(sock.data.pipe),
        end: (sock) => plainEnd(sock.data.pipe),
        close: (sock) => plainClosed(sock.data.pipe),
        error() {},
        connectError(_sock, err) {
          clearTimeout(timer);
          reject(err);
        },
      },
    }).catch((e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
