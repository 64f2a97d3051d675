/**
 * The relay leg of one tunnel stream, for both ends: dial the relay as this side of `<session>.<stream>`, then
 * join the leg to the stream's pipe — or end the stream with the reason the relay or the network gave.
 */
import { dialRelay } from "../../core/relay/dial_relay.ts";
import { abortStream, attachLeg, legClosed, legData, legDrain, legEnd, type StreamPipe } from "./stream_pipe.ts";

export interface StreamLegOptions {
  relay: { host: string; port: number; atSign?: string };
  /** `<session id>.<stream index>`: the relay pairs the two ends' legs by it. */
  sessionId: string;
  /** "a" for the tunnel (requester) end, "b" for the daemon end. */
  side: "a" | "b";
  atSign: string;
  peerAtSign: string;
  /** This @sign's encryption private key (base64 PKCS#8): signs the leg's handshake. */
  encryptionPrivateKey: string;
}

/** Dials the leg and attaches it to `pipe` when paired; never throws (failures abort the stream). */
export function dialStreamLeg(pipe: StreamPipe, o: StreamLegOptions): void {
  dialRelay({
    host: o.relay.host,
    port: o.relay.port,
    sessionId: o.sessionId,
    side: o.side,
    atSign: o.atSign,
    peerAtSign: o.peerAtSign,
    key: { algo: "rsa2048", privateKey: o.encryptionPrivateKey },
    ...(o.relay.atSign ? { relayAtSign: o.relay.atSign } : {}),
    handlers: {
      data: (_s, chunk) => legData(pipe, chunk),
      drain: () => legDrain(pipe),
      end: () => legEnd(pipe),
      close: () => legClosed(pipe),
    },
  }).then(
    (leg) => attachLeg(pipe, leg),
    (e: Error) => abortStream(pipe, e.message),
  );
}
