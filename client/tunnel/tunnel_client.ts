/**
 * The requester's end of a tunnel: a local TCP listener; every accepted connection becomes its own relayed,
 * encrypted stream of one session with the device.
 *
 * Session set-up (one per tunnel, re-made on the next connection if it drops): a fresh session id; the request
 * goes to the device over the control channel while, at the same time, this side dials the relay (side `a`) and
 * offers its signed X25519 key on that leg (session_link.ts). The session is up once the device's offer checks
 * out; a refusal ack from the device (not allowed, target not permitted, …) fails it with the device's reason.
 *
 * Relay fleet (relay_choice.ts): with several relays, each new session first probes them from both ends (the
 * device's figures come back over the control channel) and tries the lowest combined round trip first; a relay
 * that fails during set-up (unreachable, closed, draining, or the device cannot join it) makes the session start
 * again, with a fresh id, on the next one. `Tunnel.relay()` and the log say which one the session uses.
 *
 * Streams: stream n (1, 2, …) is announced on the session leg (`open`) and dials its own relay leg
 * `<sid>.<n>`; each has its own keys, its own TCP flow control and its own relay queue, so one slow stream
 * never holds up another (why not a multiplexed leg: see client/tunnel/README.md for the measurement).
 */
import type { RelayAddress } from "./relay_address.ts";
import type { TCPSocketListener } from "bun";
import { normalizeAtSign } from "../../core/atsign.ts";
import type { AtKeys } from "../../core/crypto/index.ts";
import { createTunnelOffer, streamKeys } from "../../core/crypto/tunnel/handshake.ts";
import { logger } from "../../core/log.ts";
import { RelayDialError } from "../../core/relay/dial_relay.ts";
import { RELAY_PROBE_TIMEOUT_MS } from "../../core/relay/probe_relay.ts";
import { RelayWireError } from "../../core/relay/wire.ts";
import type { AtClient } from "../at_client.ts";
import type { ControlChannel } from "./control_channel.ts";
import type { ControlMessage } from "./control_message.ts";
import { type DeviceProbeResult, type RelayPlan, measureRelays, relayText } from "./relay_choice.ts";
import { type SessionLink, openSessionLink } from "./session_link.ts";
import { type PipeSocket, type StreamEnd, type StreamPipe, abortStream, attachPlain, keepStreamAlive, newStreamPipe, plainClosed, plainData, plainDrain, plainEnd, queuedBytes } from "./stream_pipe.ts";
import { dialStreamLeg } from "./stream_leg.ts";

/** How long session set-up (request, relay pairing, key agreement) may take. */
export const TUNNEL_SETUP_TIMEOUT_MS = 15_000;
/** How long the requester waits for the device's relay figures (its probes plus a notification round trip). */
export const DEVICE_PROBE_WAIT_MS = RELAY_PROBE_TIMEOUT_MS + 2_000;
/** Streams open at once in one tunnel; more local connections are refused (closed) until some end. */
export const TUNNEL_STREAMS_MAX = 1024;
const log = logger("tunnel");

export type { RelayAddress } from "./relay_address.ts";

/** How to open a tunnel. */
export interface TunnelOptions {
  client: AtClient;
  keys: AtKeys;
  channel: ControlChannel;
  /** The device's @sign and daemon name. */
  device: string;
  deviceName: string;
  /** `host:port` on the device side. */
  target: string;
  /** Local listener; port 0 picks one. Without it, streams are only opened in process with `Tunnel.stream`. */
  local?: { host: string; port: number };
  /** The relay, or a fleet (several relays of one @sign: the published list). */
  relay: RelayAddress | RelayAddress[];
  /** How a fleet is used: "fastest" (default: both ends probe, lowest combined round trip first) or "order" (as given, no probes). */
  pick?: "fastest" | "order";
  /** For the whole set-up, every relay tried included. */
  setupTimeoutMs?: number;
  /** Session keepalive period (default SESSION_KEEPALIVE_MS). */
  keepaliveMs?: number;
  /** Called when a stream ends (tests, verbose CLI). */
  onStreamEnd?(i: number, e: StreamEnd): void;
}

/** An in-process stream's side toward the tunnel: feed it what the plain socket would report. */
export interface LocalStream {
  data(chunk: Uint8Array): void;
  drain(): void;
  /** FIN from the app. */
  end(): void;
  /** The app is gone. */
  closed(): void;
  /** Ends the stream at once: the peer sees an abort, not a clean end. */
  abort(reason: string): void;
}

/** A running tunnel. */
export interface Tunnel {
  /** The local listener's address (port 0 when there is none). */
  host: string;
  port: number;
  /**
   * Opens a stream for an in-process plain socket (no local listener): the tunnel writes the peer's bytes to
   * `sock` and calls its pause/resume/shutdown; report the app's side through the returned LocalStream.
   */
  stream(sock: PipeSocket): LocalStream;
  /** The current session id. */
  sessionId(): string | null;
  /** The relay the current session uses and how it was chosen (null between sessions). */
  relay(): UsedRelay | null;
  /** Streams open now. */
  streams(): number;
  /** Bytes held in user space by all streams now (bounded by backpressure). */
  queuedBytes(): number;
  close(): void;
}

/** Failure to set up a tunnel session, with the device's reason when it gave one. */
export class TunnelSetupError extends Error {
  override name = "TunnelSetupError";
}

/** Which relay a session uses, and why. */
export interface UsedRelay {
  relay: RelayAddress;
  /** "only" relay given, "fastest" of a measured fleet, first working one in the given "order". */
  how: "only" | "fastest" | "order";
  /** Requester + device round trip in ms when measured (device part missing when it gave no figures). */
  combinedMs: number | null;
  /** Whether the device's figures were part of the choice. */
  deviceMeasured: boolean;
  /** Relays tried first that failed during set-up, with why. */
  failed: { relay: RelayAddress; reason: string }[];
  /** Relays not tried (draining). */
  skipped: { relay: RelayAddress; reason: string }[];
}

interface Live {
  sid: string;
  used: UsedRelay;
  link: SessionLink;
  next: number;
  streams: Map<number, StreamPipe>;
  /** The session leg closed (possibly before `live` was even set to this session). */
  ended: boolean;
}

type Waiter = { resolve(m: ControlMessage): void };

/** Per local connection: its stream once the session is there; `eof`/`gone` if it half-closed/closed before. */
interface LocalState {
  pipe: StreamPipe | null;
  eof: boolean;
  gone: boolean;
}

/**
 * Opens the listener and the first session; resolves once the tunnel is ready for connections.
 * @example const t = await openTunnel({ client, keys, channel, device: "@device", deviceName: "default", target: "127.0.0.1:22", local: { host: "127.0.0.1", port: 2222 }, relay });
 */
export async function openTunnel(opts: TunnelOptions): Promise<Tunnel> {
  const me = opts.client.atSign;
  const device = normalizeAtSign(opts.device);
  const relays = Array.isArray(opts.relay) ? opts.relay : [opts.relay];
  if (relays.length === 0) throw new TunnelSetupError("No relay given");
  const waiters = new Map<string, Waiter>();
  let closed = false;
  let live: Live | null = null;
  let connecting: Promise<Live> | null = null;

  const consume = async () => {
    for await (const { from, msg } of opts.channel.messages()) {
      if (from !== device) continue;
      const id = msg.t === "ack" ? msg.sid : msg.t === "pong" || msg.t === "probed" ? msg.pid : null;
      if (id) waiters.get(id)?.resolve(msg);
    }
  };
  void consume().catch((e: unknown) => log.error("control loop failed", { error: String(e) }));

  /** Asks the device for its round trip to each relay; null when it gives none in time (or cannot: older daemon). */
  const askDevice = async (list: RelayAddress[]): Promise<DeviceProbeResult[] | null> => {
    const pid = crypto.randomUUID();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answer = new Promise<DeviceProbeResult[] | null>((resolve) => {
      waiters.set(pid, { resolve: (m) => resolve(m.t === "probed" ? m.results : null) });
      timer = setTimeout(() => resolve(null), DEVICE_PROBE_WAIT_MS);
    });
    try {
      await opts.channel.send(device, { t: "probe", pid, device: opts.deviceName, relays: list.map(relayText), ...(list[0]!.atSign ? { relayAtSign: list[0]!.atSign } : {}) });
      return await answer;
    } finally {
      clearTimeout(timer);
      waiters.delete(pid);
    }
  };

  const plan = async (): Promise<RelayPlan & { how: UsedRelay["how"]; deviceMeasured: boolean }> => {
    const unmeasured = { order: relays, combinedMs: relays.map(() => null), skipped: [], measurements: [], deviceMeasured: false };
    if (relays.length === 1) return { ...unmeasured, how: "only" };
    if (opts.pick === "order") return { ...unmeasured, how: "order" };
    const p = await measureRelays(relays, askDevice);
    return { ...p, how: "fastest", deviceMeasured: p.measurements.some((m) => m.device !== null) };
  };

  /** A session on the best relay that works: a relay failure moves on to the next one, anything else is final. */
  const setUp = async (): Promise<Live> => {
    const deadline = Date.now() + (opts.setupTimeoutMs ?? TUNNEL_SETUP_TIMEOUT_MS);
    const p = await plan();
    if (p.order.length === 0) throw new TunnelSetupError(`Every relay is draining (${relays.map(relayText).join(", ")}); try again later`);
    const failed: UsedRelay["failed"] = [];
    for (let n = 0; ; n++) {
      const relay = p.order[n]!;
      try {
        const used: UsedRelay = { relay, how: p.how, combinedMs: p.combinedMs[n] ?? null, deviceMeasured: p.deviceMeasured, failed, skipped: p.skipped };
        const l = await attempt(relay, used, Math.max(1, deadline - Date.now()));
        log.info("session via relay", { sid: l.sid, relay: relayText(relay), how: p.how, combinedMs: used.combinedMs, failed: failed.length, skipped: p.skipped.length });
        return l;
      } catch (e) {
        const relayFailed = e instanceof RelayDialError || e instanceof RelayWireError;
        if (!relayFailed || n === p.order.length - 1 || Date.now() >= deadline) throw e;
        failed.push({ relay, reason: (e as Error).message });
        log.warn("relay failed during set-up, trying the next", { relay: relayText(relay), error: (e as Error).message });
      }
    }
  };

  /** One set-up on `relay`. */
  const attempt = async (relay: RelayAddress, used: UsedRelay, timeoutMs: number): Promise<Live> => {
    const sid = crypto.randomUUID();
    const key = { algo: "rsa2048" as const, privateKey: opts.keys.encryptionPrivateKey };
    const giveUp = new AbortController();
    let refused!: (m: Extract<ControlMessage, { t: "ack" }>) => void;
    const refusal = new Promise<Extract<ControlMessage, { t: "ack" }>>((r) => (refused = r));
    waiters.set(sid, { resolve: (m) => m.t === "ack" && !m.ok && refused(m) });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new TunnelSetupError(`No tunnel session with ${device} within ${timeoutMs} ms (is its daemon running, does it allow ${me}?)`)), timeoutMs)));
    const request: ControlMessage = {
      t: "request",
      sid,
      device: opts.deviceName,
      target: opts.target,
      relay: relayText(relay),
      ...(relay.atSign ? { relayAtSign: relay.atSign } : {}),
    };
    // Only a failure to send matters to the race below; success is the session leg pairing.
    const sendFailure = opts.channel.send(device, request).then(() => new Promise<never>(() => {}));
    const linking = opts.client.publicKeyOf(device).then((peerPublicKey) =>
      openSessionLink({
        leg: { host: relay.host, port: relay.port, sessionId: sid, side: "a", atSign: me, peerAtSign: device, key, timeoutMs, signal: giveUp.signal, ...(relay.atSign ? { relayAtSign: relay.atSign } : {}) },
        mine: () => createTunnelOffer({ sessionId: sid, role: "initiator", atSign: me, peerAtSign: device, key }),
        peerPublicKey,
        ...(opts.keepaliveMs ? { keepaliveMs: opts.keepaliveMs } : {}),
        onMessage: (m) => {
          if (m.t === "refused") {
            const p = live?.sid === sid ? live.streams.get(m.i) : undefined;
            if (p) abortStream(p, m.reason);
            log.warn("stream refused by the device", { i: m.i, reason: m.reason });
          }
        },
        onKeepalive: () => {
          if (live?.sid === sid) for (const p of live.streams.values()) keepStreamAlive(p);
        },
      }),
    );
    try {
      const link = await Promise.race([
        linking,
        refusal.then((m) => {
          const reason = m.reason ?? "no reason given";
          throw m.relay ? new RelayDialError(reason) : new TunnelSetupError(`${device} refused the tunnel: ${reason}`);
        }),
        sendFailure,
        timeout,
      ]);
      const l: Live = { sid, used, link, next: 1, streams: new Map(), ended: false };
      void link.closed.then((reason) => {
        l.ended = true;
        if (live === l) live = null;
        for (const p of l.streams.values()) abortStream(p, `session ended: ${reason}`);
        if (!closed) log.info("session ended", { sid, reason });
      });
      return l;
    } catch (e) {
      giveUp.abort(); // a leg still waiting for its peer on this relay is closed now, not at its deadline
      void linking.then((l) => l.close()).catch(() => {});
      throw e;
    } finally {
      clearTimeout(timer);
      waiters.delete(sid);
      sendFailure.catch(() => {}); // a send that fails after the race was decided changes nothing
    }
  };

  const session = (): Promise<Live> => {
    if (live && !live.ended) return Promise.resolve(live);
    connecting ??= setUp()
      .then((l) => (live = l))
      .finally(() => (connecting = null));
    return connecting;
  };

  const startStream = (local: PipeSocket, state: LocalState) => {
    local.pause();
    session().then(
      (l) => {
        if (closed || l.streams.size >= TUNNEL_STREAMS_MAX) return void local.terminate();
        const i = l.next++;
        const pipe = newStreamPipe(streamKeys(l.link.session, i), (e) => {
          l.streams.delete(i);
          opts.onStreamEnd?.(i, e);
        });
        l.streams.set(i, pipe);
        state.pipe = pipe;
        attachPlain(pipe, local);
        // A local socket that half-closed or closed while the session was being set up.
        if (state.eof) plainEnd(pipe);
        if (state.gone) plainClosed(pipe);
        l.link.send({ t: "open", i });
        dialStreamLeg(pipe, { relay: l.used.relay, sessionId: `${l.sid}.${i}`, side: "a", atSign: me, peerAtSign: device, encryptionPrivateKey: opts.keys.encryptionPrivateKey });
      },
      (e: Error) => {
        log.warn("cannot open a stream", { error: e.message });
        local.terminate();
      },
    );
  };

  /** Routes a local socket's events to its stream (or notes them until the stream exists). */
  const localEvents = (state: LocalState): LocalStream => ({
    data(chunk) {
      if (state.pipe) plainData(state.pipe, chunk);
    },
    drain() {
      if (state.pipe) plainDrain(state.pipe);
    },
    end() {
      if (state.pipe) plainEnd(state.pipe);
      else state.eof = true;
    },
    closed() {
      state.gone = true;
      if (state.pipe) plainClosed(state.pipe);
    },
    abort(reason) {
      state.gone = true;
      if (state.pipe) abortStream(state.pipe, reason);
    },
  });

  let listener: TCPSocketListener<LocalState> | null = null;
  try {
    if (opts.local) listener = listen(opts.local);
  } catch (e) {
    opts.channel.close();
    const code = (e as { code?: string }).code;
    const why = code === "EADDRINUSE" ? "the port is in use (pick another --local, or port 0)" : code === "EACCES" ? "not allowed (ports below 1024 need privileges)" : (e as Error).message;
    throw new TunnelSetupError(`Cannot listen on ${opts.local?.host}:${opts.local?.port}: ${why}`);
  }

  function listen(local: { host: string; port: number }): TCPSocketListener<LocalState> {
    return Bun.listen<LocalState>({
      hostname: local.host,
      port: local.port,
      allowHalfOpen: true,
      socket: {
        binaryType: "uint8array",
        open(s) {
          s.data = { pipe: null, eof: false, gone: false };
          if (closed) return void s.terminate();
          startStream(s, s.data);
        },
        data: (s, chunk) => localEvents(s.data).data(chunk),
        drain: (s) => localEvents(s.data).drain(),
        end: (s) => localEvents(s.data).end(),
        close: (s) => localEvents(s.data).closed(),
        error() {},
      },
    });
  }

  try {
    await session();
  } catch (e) {
    listener?.stop(true);
    closed = true;
    opts.channel.close();
    throw e;
  }

  return {
    host: opts.local?.host ?? "",
    port: listener?.port ?? 0,
    stream(sock) {
      const state: LocalState = { pipe: null, eof: false, gone: false };
      if (closed) sock.terminate();
      else startStream(sock, state);
      return localEvents(state);
    },
    sessionId: () => live?.sid ?? null,
    relay: () => live?.used ?? null,
    streams: () => live?.streams.size ?? 0,
    queuedBytes: () => [...(live?.streams.values() ?? [])].reduce((n, p) => n + queuedBytes(p), 0),
    close() {
      closed = true;
      listener?.stop(true);
      if (live) {
        for (const p of live.streams.values()) abortStream(p, "tunnel closed");
        live.link.close();
      }
      opts.channel.close();
    },
  };
}

/**
 * Asks a device daemon who it is (the channel's messages are consumed here: use a channel of its own). Resolves with its pong, or null when none comes within `timeoutMs`.
 * @example const pong = await pingDevice(channel, "@device", "default");
 */
export async function pingDevice(channel: ControlChannel, device: string, deviceName: string, timeoutMs = 10_000): Promise<Extract<ControlMessage, { t: "pong" }> | null> {
  const pid = crypto.randomUUID();
  const to = normalizeAtSign(device);
  const deadline = Date.now() + timeoutMs;
  await channel.send(to, { t: "ping", pid, device: deviceName });
  const it = channel.messages()[Symbol.asyncIterator]();
  while (Date.now() < deadline) {
    const next = await Promise.race([it.next(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => null)]);
    if (!next || next.done) return null;
    const { from, msg } = next.value;
    if (from === to && msg.t === "pong" && msg.pid === pid) return msg;
  }
  return null;
}
