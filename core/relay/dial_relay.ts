/**
 * The leg side of the relay handshake (core/relay/wire.ts): connect, read HELLO, sign, send AUTH, wait for OK.
 * Resolves with the connected socket once paired; from then on the caller's handlers get the socket's events.
 */
import { concatBytes } from "../bytes.ts";
import type { Socket } from "bun";
import type { AtSignSigningKey } from "../crypto/tunnel/at_sign_signature.ts";
import { signAsAtSign } from "../crypto/tunnel/at_sign_signer.ts";
import { type WriteQueue, flush, newWriteQueue, send } from "../net/write_queue.ts";
import {
  RELAY_DRAINING,
  RELAY_HELLO_MAX_BYTES,
  RELAY_OK,
  RELAY_PREAUTH_TIMEOUT_MS,
  type RelaySide,
  RelayWireError,
  encodeLegAuth,
  encodeLegAuthBody,
  legAuthSignedBytes,
  parseRelayHello,
} from "./wire.ts";

/** What the caller handles once the leg is paired. `data` chunks are fresh buffers the caller owns. */
export interface RelayLegHandlers {
  data(socket: RelayLegSocket, chunk: Uint8Array): void;
  drain?(socket: RelayLegSocket): void;
  /** The peer half-closed (the socket stays writable: allowHalfOpen). */
  end?(socket: RelayLegSocket): void;
  close?(socket: RelayLegSocket, error?: Error): void;
}

/** Who this leg is and where it goes. */
export interface DialRelayOptions {
  host: string;
  port: number;
  sessionId: string;
  side: RelaySide;
  atSign: string;
  peerAtSign: string;
  key: AtSignSigningKey;
  /** When given, a relay announcing another @sign is refused before anything is signed. */
  relayAtSign?: string;
  /** Whole handshake deadline (connect to OK), default the relay's own pre-auth limit. */
  timeoutMs?: number;
  /** Gives up on a leg not yet paired (its owner moved on, e.g. to another relay of a fleet). */
  signal?: AbortSignal;
  handlers: RelayLegHandlers;
}

/** Why a leg did not get paired; `draining` when the relay said it takes no new sessions (try another). */
export class RelayDialError extends Error {
  override name = "RelayDialError";
  constructor(
    message: string,
    readonly draining = false,
  ) {
    super(message);
  }
}

type Phase = "hello" | "await_ok" | "open" | "failed";

/** Per-socket state of a leg. */
export interface LegClientState {
  phase: Phase;
  inbound: Uint8Array;
  out: WriteQueue;
  opts: DialRelayOptions;
  settle: { resolve(s: RelayLegSocket): void; reject(e: Error): void };
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** A paired leg socket. */
export type RelayLegSocket = Socket<LegClientState>;

/**
 * Dials the relay and completes the handshake.
 * @example const leg = await dialRelay({ host, port, sessionId, side: "a", atSign: "@bob", peerAtSign: "@device", key, handlers });
 */
export function dialRelay(opts: DialRelayOptions): Promise<RelayLegSocket> {
  return new Promise((resolve, reject) => {
    const state: LegClientState = {
      phase: "hello",
      inbound: new Uint8Array(0),
      out: newWriteQueue(),
      opts,
      settle: { resolve, reject },
      timer: undefined,
    };
    Bun.connect<LegClientState>({
      hostname: opts.host,
      port: opts.port,
      allowHalfOpen: true,
      data: state,
      socket: {
        open(s) {
          s.data.timer = setTimeout(() => fail(s, new RelayDialError("Cannot join relay session: handshake timed out")), opts.timeoutMs ?? RELAY_PREAUTH_TIMEOUT_MS);
          if (opts.signal?.aborted) return fail(s, new RelayDialError("Cannot join relay session: given up"));
          opts.signal?.addEventListener("abort", () => fail(s, new RelayDialError("Cannot join relay session: given up")), { once: true });
        },
        data(s, chunk) {
          if (s.data.phase === "open") return s.data.opts.handlers.data(s, chunk);
          try {
            onHandshakeBytes(s, chunk);
          } catch (e) {
            fail(s, e instanceof Error ? e : new RelayDialError(String(e)));
          }
        },
        drain(s) {
          if (!flush(s, s.data.out)) return;
          if (s.data.phase === "open") s.data.opts.handlers.drain?.(s);
        },
        end(s) {
          if (s.data.phase === "open") return s.data.opts.handlers.end?.(s);
          fail(s, new RelayDialError("Cannot join relay session: the relay refused the leg"));
        },
        close(s, err) {
          clearTimeout(s.data.timer);
          if (s.data.phase === "open") return s.data.opts.handlers.close?.(s, err);
          fail(s, new RelayDialError("Cannot join relay session: the relay closed the connection"));
        },
        error(s, err) {
          fail(s, err);
        },
        connectError(_s, err) {
          clearTimeout(state.timer);
          state.phase = "failed";
          reject(new RelayDialError(`Cannot connect to relay ${opts.host}:${opts.port}: ${err.message}`));
        },
      },
    }).catch((e: Error) => {
      if (state.phase !== "failed") reject(new RelayDialError(`Cannot connect to relay ${opts.host}:${opts.port}: ${e.message}`));
      state.phase = "failed";
    });
  });
}

function onHandshakeBytes(s: RelayLegSocket, chunk: Uint8Array): void {
  const st = s.data;
  const buf = st.inbound.byteLength ? concatBytes([st.inbound, chunk]) : chunk;
  if (st.phase === "hello") {
    if (buf.byteLength > RELAY_HELLO_MAX_BYTES + 1) throw new RelayWireError("Cannot read HELLO: too long");
    const parsed = parseRelayHello(buf);
    if (!parsed) {
      st.inbound = buf.slice();
      return;
    }
    const { hello, used } = parsed;
    if (st.opts.relayAtSign && hello.relayAtSign !== st.opts.relayAtSign) {
      throw new RelayDialError(`Cannot join relay session: relay is ${hello.relayAtSign}, expected ${st.opts.relayAtSign}`);
    }
    if (used !== buf.byteLength) throw new RelayWireError("Cannot read HELLO: unexpected bytes after it");
    const { sessionId, side, atSign, peerAtSign, key } = st.opts;
    const body = encodeLegAuthBody({ sessionId, side, atSign, peerAtSign, algo: key.algo });
    const signature = signAsAtSign(key, legAuthSignedBytes(body, hello.challenge, hello.relayAtSign));
    st.inbound = new Uint8Array(0);
    st.phase = "await_ok";
    if (send(s, st.out, encodeLegAuth(body, signature)) === "closed") throw new RelayDialError("Cannot join relay session: connection closed");
    return;
  }
  // await_ok: the first byte must be OK; anything after it in the same chunk is already the peer's data.
  if (buf[0] === RELAY_DRAINING) throw new RelayDialError(`Cannot join relay session: relay ${st.opts.host}:${st.opts.port} is draining (no new sessions)`, true);
  if (buf[0] !== RELAY_OK) throw new RelayWireError("Cannot join relay session: unexpected reply");
  st.phase = "open";
  clearTimeout(st.timer);
  st.settle.resolve(s);
  if (buf.byteLength > 1) st.opts.handlers.data(s, buf.subarray(1));
}

function fail(s: RelayLegSocket, err: Error): void {
  if (s.data.phase === "failed" || s.data.phase === "open") return;
  s.data.phase = "failed";
  clearTimeout(s.data.timer);
  s.data.settle.reject(err);
  s.end();
}
