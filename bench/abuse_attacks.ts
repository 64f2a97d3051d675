/**
 * The attacks of the `abuse` scenario (issue 13), each bounded in count and time, from loopback addresses of
 * another /24 than the owner's. They run in their own process (fixtures/abuse_attacker.ts), so the owner's
 * measured round trips do not share an event loop with hundreds of attacking sockets.
 */
import net from "node:net";
import tls from "node:tls";
import { encodeLegAuth, encodeLegAuthBody } from "../core/relay/wire.ts";

/** Attack budget: a connection is reopened at most this many times per slot. */
const REOPENS_PER_SLOT = 20;
/** Scans each stranger connection pipelines, and how many strangers. */
const SCANS_PER_STRANGER = 10;
const SCAN_STRANGERS = 3;
/** The catastrophic pattern of the issue: exponential backtracking on any key without a Z. */
export const CATASTROPHIC_SCAN = "scan (.*.*.*)*Z";
/** Where the strangers come from: four addresses of one /24 that is not the owner's (127.0.0.1). */
const STRANGER_ADDRESSES = ["127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4"];
const strangerAddress = (i: number) => STRANGER_ADDRESSES[i % STRANGER_ADDRESSES.length]!;

/** A TLS connection from a stranger's address; `onPrompt` runs at the first bytes received. */
function strangerTls(target: { host: string; port: number }, i: number, onPrompt: (s: tls.TLSSocket) => void): tls.TLSSocket {
  const socket = net.connect({ host: target.host, port: target.port, localAddress: strangerAddress(i) });
  socket.on("error", () => {});
  const s = tls.connect({ socket, rejectUnauthorized: false });
  s.once("data", () => onPrompt(s));
  s.on("error", () => {});
  return s;
}

/** A running attack. */
export interface Attack {
  /** What it did, for the notes. */
  summary(): string;
  stop(): Promise<void>;
}

/** TLS connections that take their prompt and then drip a byte per `dripMs`, reopened `dripMs` after a close. */
export function slowloris(target: { host: string; port: number }, slots: number, dripMs: number): Attack {
  let stopped = false;
  let opened = 0;
  let closedByServer = 0;
  const live = new Set<tls.TLSSocket>();
  const slot = async (i: number, reopens: number): Promise<void> => {
    if (stopped || reopens > REOPENS_PER_SLOT) return;
    opened++;
    let drip: ReturnType<typeof setInterval> | undefined;
    await new Promise<void>((resolve) => {
      const s = strangerTls(target, i, (sock) => (drip = setInterval(() => sock.write("x"), dripMs)));
      live.add(s);
      s.on("close", () => {
        live.delete(s);
        if (!stopped) closedByServer++;
        resolve();
      });
    });
    clearInterval(drip);
    await Bun.sleep(dripMs);
    return slot(i, reopens + 1);
  };
  const running = Array.from({ length: slots }, (_, i) => slot(i, 0));
  return {
    summary: () => `${slots} dripping slots, ${opened} connections opened, ${closedByServer} closed by the server`,
    async stop() {
      stopped = true;
      for (const s of live) s.destroy();
      await Promise.all(running);
    },
  };
}

/** Stranger connections, each pipelining SCANS_PER_STRANGER catastrophic scans once it has its prompt. */
export function scanStrangers(target: { host: string; port: number }): Attack {
  const socks = Array.from({ length: SCAN_STRANGERS }, (_, i) => strangerTls(target, i, (s) => s.write(`${CATASTROPHIC_SCAN}\n`.repeat(SCANS_PER_STRANGER))));
  return {
    summary: () => `${SCAN_STRANGERS} strangers × ${SCANS_PER_STRANGER} pipelined "${CATASTROPHIC_SCAN}"`,
    async stop() {
      for (const s of socks) s.destroy();
    },
  };
}

/**
 * `workers` loops, each: connect from a stranger's address, send one AUTH naming a random @sign (a forged
 * signature of the right shape), half-close, and go again once the relay has closed it.
 */
export function authFlood(relay: { host: string; port: number }, workers: number, maxFrames: number, peerAtSign: string): Attack {
  let stopped = false;
  let frames = 0;
  const worker = async (i: number) => {
    while (!stopped && frames < maxFrames) {
      frames++;
      const atSign = `@r${crypto.randomUUID().slice(0, 12)}`;
      const body = encodeLegAuthBody({ sessionId: crypto.randomUUID(), side: "a", atSign, peerAtSign, algo: "rsa2048" });
      const frame = encodeLegAuth(body, crypto.getRandomValues(new Uint8Array(256)));
      await new Promise<void>((resolve) => {
        const s = net.connect({ host: relay.host, port: relay.port, localAddress: strangerAddress(i) }, () => s.end(frame));
        s.on("error", () => {});
        s.on("data", () => {});
        s.on("close", () => resolve());
      });
    }
  };
  const running = Array.from({ length: workers }, (_, i) => worker(i));
  return {
    summary: () => `${workers} connections at a time, ${frames} AUTH frames naming random @signs`,
    async stop() {
      stopped = true;
      await Promise.all(running);
    },
  };
}
