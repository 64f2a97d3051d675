/**
 * Measures one relay of a fleet (core/relay/wire.ts, "Probe"): connect, read HELLO, send PROBE, read the one-byte
 * answer. The time from connect to answer is what a leg's handshake would cost there, the relay's load included.
 */
import { concatBytes } from "../bytes.ts";
import { RELAY_DRAINING, RELAY_HELLO_MAX_BYTES, RELAY_OPEN, RELAY_PROBE, parseRelayHello } from "./wire.ts";

/** A probe gives up after this long (the relay then counts as down). */
export const RELAY_PROBE_TIMEOUT_MS = 3_000;

/** What a probe found: the round trip and whether the relay takes new sessions, or why it could not tell. */
export type RelayProbe = { ms: number; draining: boolean } | { down: string };

/** Where to probe. */
export interface ProbeTarget {
  host: string;
  port: number;
  /** When given, a relay announcing another @sign counts as down. */
  atSign?: string;
}

/**
 * Probes `t`; never rejects.
 * @example await probeRelay({ host: "127.0.0.1", port: 6466 }) // { ms: 0.4, draining: false }
 */
export function probeRelay(t: ProbeTarget, timeoutMs = RELAY_PROBE_TIMEOUT_MS): Promise<RelayProbe> {
  const started = performance.now();
  return new Promise((resolve) => {
    let inbound: Uint8Array = new Uint8Array(0);
    let helloDone = false;
    let settled = false;
    let close: (() => void) | null = null;
    const settle = (r: RelayProbe) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      close?.();
      resolve(r);
    };
    const timer = setTimeout(() => settle({ down: `no answer within ${timeoutMs} ms` }), timeoutMs);
    Bun.connect({
      hostname: t.host,
      port: t.port,
      socket: {
        binaryType: "uint8array",
        open(s) {
          close = () => s.end();
          if (settled) s.end();
        },
        data(s, chunk) {
          inbound = inbound.byteLength ? concatBytes([inbound, chunk]) : chunk;
          try {
            if (!helloDone) {
              if (inbound.byteLength > RELAY_HELLO_MAX_BYTES) return settle({ down: "not an Inlay relay" });
              const parsed = parseRelayHello(inbound);
              if (!parsed) return;
              if (t.atSign && parsed.hello.relayAtSign !== t.atSign) return settle({ down: `relay is ${parsed.hello.relayAtSign}, expected ${t.atSign}` });
              helloDone = true;
              inbound = inbound.slice(parsed.used);
              s.write(RELAY_PROBE);
            }
            if (inbound.byteLength === 0) return;
            const answer = inbound[0];
            if (answer === RELAY_OPEN || answer === RELAY_DRAINING) settle({ ms: performance.now() - started, draining: answer === RELAY_DRAINING });
            else settle({ down: "unexpected probe answer (an older relay?)" });
          } catch (e) {
            settle({ down: (e as Error).message });
          }
        },
        close: () => settle({ down: "closed before answering" }),
        error: (_s, e) => settle({ down: e.message }),
        connectError: (_s, e) => settle({ down: `cannot connect: ${e.message}` }),
      },
    }).catch((e: Error) => settle({ down: `cannot connect: ${e.message}` }));
  });
}
