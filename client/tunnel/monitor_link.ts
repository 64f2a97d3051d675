/**
 * A monitor connection to my own atServer (ATPROTOCOL.md §5.11): TLS, PKAM, then `monitor:<epochMillis> <regex>`;
 * from then on the server pushes `notification: {json}` lines. Written here over the raw protocol because the
 * SDK's AtConnection matches every line to a request and has no room for pushed lines (the SDK's own
 * notify/monitor API is still to come; this file is the one place to swap for it).
 *
 * Reconnects with backoff after a drop and asks for a replay from the last notification seen, so nothing
 * delivered while it was away is lost. `noop:0` every MONITOR_HEARTBEAT_MS tells a dead connection from a quiet one.
 */
import { signPkam, type AtKeys } from "../../core/crypto/index.ts";
import { LineTooLongError, newLineBuffer, pushChunk } from "../../core/net/line_buffer.ts";
import { buildCommand } from "../../core/verbs/index.ts";
import { parseResponse, stripPrompt, type AtResponse } from "../connection/parse_response.ts";
import type { HostPort, RootResolver } from "../connection/root_lookup.ts";
import { connectTls, type TlsLink } from "../connection/tls_link.ts";
import { MAX_RESPONSE_BYTES } from "../connection/at_connection.ts";

/** Deadline for connect + TLS + prompt + PKAM. */
export const MONITOR_CONNECT_TIMEOUT_MS = 10_000;
/** How often an idle monitor sends `noop:0`; no answer within the same time closes it (and it reconnects). */
export const MONITOR_HEARTBEAT_MS = 15_000;
/** Delays between reconnect attempts (the last one repeats). */
export const MONITOR_RECONNECT_BACKOFF_MS = [100, 500, 2_000, 5_000] as const;
/** Requests waiting for an answer on a monitor connection (only auth and heartbeats use it). */
const MONITOR_MAX_PENDING = 8;

/** One pushed notification, as the server's JSON has it (fields we use). */
export interface MonitorNotification {
  id: string;
  from: string;
  to: string;
  key: string;
  value: string | null;
  epochMillis: number;
}

/** How to reach my atServer and what to listen for. */
export interface MonitorOptions {
  keys: AtKeys;
  resolver: RootResolver;
  ca: string[];
  address?: HostPort;
  /** Server-side filter on the notification key (or the sender without `@`). */
  regex: string;
  /** Replay stored notifications newer than this (default: now, i.e. only new ones). */
  sinceMs?: number;
  onNotification(n: MonitorNotification): void;
  /** Called on each (re)connect failure or drop, for logs. */
  onProblem?(message: string): void;
}

/** A running monitor. */
export interface MonitorLink {
  /** Resolves once the first connection is authenticated and monitoring. */
  ready: Promise<void>;
  close(): void;
}

/**
 * Starts monitoring; keeps at it (reconnecting) until `close`.
 * @example const m = startMonitor({ keys, resolver, ca, regex: "\\.tunnels@", onNotification: (n) => … }); await m.ready;
 */
export function startMonitor(opts: MonitorOptions): MonitorLink {
  let closed = false;
  let since = opts.sinceMs ?? Date.now();
  let current: Conn | null = null;
  let readyResolve!: () => void;
  let readyReject!: (e: Error) => void;
  const ready = new Promise<void>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  let everReady = false;

  const run = async () => {
    for (let attempt = 0; !closed; attempt++) {
      try {
        const conn = await connectMonitor(opts, since, (n) => {
          if (n.epochMillis > since) since = n.epochMillis;
          opts.onNotification(n);
        });
        if (closed) return conn.close();
        current = conn;
        attempt = -1;
        if (!everReady) {
          everReady = true;
          readyResolve();
        }
        const reason = await conn.done;
        current = null;
        if (!closed) opts.onProblem?.(`monitor connection lost (${reason}); reconnecting`);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (!everReady) return readyReject(new Error(`Cannot monitor notifications: ${message}`));
        opts.onProblem?.(`monitor reconnect failed: ${message}`);
      }
      const delay = MONITOR_RECONNECT_BACKOFF_MS[Math.min(Math.max(attempt, 0), MONITOR_RECONNECT_BACKOFF_MS.length - 1)]!;
      if (!closed) await Bun.sleep(delay);
    }
  };
  void run();
  return {
    ready,
    close() {
      closed = true;
      current?.close();
    },
  };
}

interface Conn {
  done: Promise<string>;
  close(): void;
}

async function connectMonitor(opts: MonitorOptions, sinceMs: number, onNotification: (n: MonitorNotification) => void): Promise<Conn> {
  const address = opts.address ?? (await opts.resolver.resolve(opts.keys.atSign));
  const lines = newLineBuffer(MAX_RESPONSE_BYTES);
  const pending: ((r: AtResponse) => void)[] = [];
  let greeted!: () => void;
  const greeting = new Promise<void>((r) => (greeted = r));
  let finish!: (reason: string) => void;
  const done = new Promise<string>((r) => (finish = r));
  let link: TlsLink | null = null;
  let ended = false;
  const end = (reason: string) => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    link?.close();
    for (const p of pending.splice(0)) p({ ok: false, code: "AT0021", description: reason });
    finish(reason);
  };
  const request = (line: string) =>
    new Promise<AtResponse>((resolve) => {
      if (ended || !link || pending.length >= MONITOR_MAX_PENDING || !link.write(line + "\n")) return resolve({ ok: false, code: "AT0021", description: "connection closed" });
      pending.push(resolve);
    });
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  link = await connectTls(
    { ...address, ca: opts.ca },
    {
      data(chunk) {
        greeted();
        let got: string[];
        try {
          got = pushChunk(lines, chunk);
        } catch (e) {
          if (!(e instanceof LineTooLongError)) throw e;
          return end(`line longer than ${MAX_RESPONSE_BYTES} bytes`);
        }
        for (const raw of got) {
          const text = stripPrompt(raw);
          if (text === "") continue;
          if (text.startsWith("notification:")) {
            const n = parseNotification(text.slice("notification:".length));
            if (n) onNotification(n);
            continue;
          }
          const r = parseResponse(text);
          const p = pending.shift();
          if (!r || !p) return end(`unexpected line "${text.slice(0, 40)}"`);
          p(r);
        }
      },
      closed: (reason) => end(reason),
    },
    MONITOR_CONNECT_TIMEOUT_MS,
  );
  try {
    const deadline = setTimeout(() => end("no prompt or auth answer in time"), MONITOR_CONNECT_TIMEOUT_MS);
    await greeting;
    const from = await request(buildCommand({ verb: "from", atSign: opts.keys.atSign }));
    if (!from.ok) throw new Error(`from: ${from.code} ${from.description}`);
    const k = opts.keys;
    const signature = signPkam(from.data, { algo: k.pkamAlgo, privateKey: k.pkamPrivateKey }, "sha256");
    const pkam = await request(buildCommand({ verb: "pkam", signingAlgo: k.pkamAlgo, hashingAlgo: "sha256", ...(k.enrollmentId ? { enrollmentId: k.enrollmentId } : {}), signature }));
    clearTimeout(deadline);
    if (!pkam.ok || pkam.data !== "success") throw new Error(`PKAM refused: ${pkam.ok ? pkam.data : `${pkam.code} ${pkam.description}`}`);
    link.write(buildCommand({ verb: "monitor", epochMillis: sinceMs, regex: opts.regex }) + "\n");
    // The noop answer comes after the monitor is attached: commands are handled in order.
    const ok = await request("noop:0");
    if (!ok.ok) throw new Error(`monitor refused: ${ok.code} ${ok.description}`);
  } catch (e) {
    end("setup failed");
    throw e;
  }
  heartbeat = setInterval(() => {
    if (pending.length > 0) return end(`no answer to a heartbeat within ${MONITOR_HEARTBEAT_MS} ms`);
    void request("noop:0");
  }, MONITOR_HEARTBEAT_MS);
  return { done, close: () => end("closed") };
}

function parseNotification(json: string): MonitorNotification | null {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof raw !== "object" || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (typeof r.id !== "string" || r.id === "-1" || typeof r.from !== "string" || typeof r.key !== "string") return null;
  return {
    id: r.id,
    from: r.from,
    to: typeof r.to === "string" ? r.to : "",
    key: r.key,
    value: typeof r.value === "string" ? r.value : null,
    epochMillis: typeof r.epochMillis === "number" ? r.epochMillis : 0,
  };
}
