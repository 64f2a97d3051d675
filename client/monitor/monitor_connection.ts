/**
 * One monitor connection to my own atServer (ATPROTOCOL.md §5.11, §6.4): TLS, `from` + `pkam`, then
 * `monitor[:selfNotifications][:<epochMillis>][ <regex>]`. From then on the server pushes
 * `notification: {json}` lines in between the answers to the few requests this connection still sends
 * (`noop:0` heartbeats), so it cannot share AtConnection, which pairs every line with a request. It is kept
 * apart from the request connection for the same reason.
 *
 * A heartbeat that gets no answer before the next one is due ends the connection; the owner (monitor.ts)
 * reconnects.
 */
import { signPkam, type AtKeys } from "../../core/crypto/index.ts";
import { LineTooLongError, newLineBuffer, pushChunk } from "../../core/net/line_buffer.ts";
import { buildCommand } from "../../core/verbs/index.ts";
import { MAX_RESPONSE_BYTES } from "../connection/at_connection.ts";
import { parseResponse, stripPrompt, type AtResponse } from "../connection/parse_response.ts";
import type { HostPort } from "../connection/root_lookup.ts";
import { connectTls, type TlsLink } from "../connection/tls_link.ts";
import { AtAuthError, AtNetworkError, errorFromServer } from "../errors.ts";

/** Requests awaiting an answer on a monitor connection (auth, the monitor check, one heartbeat). */
export const MONITOR_MAX_PENDING_REQUESTS = 4;

const NOTIFICATION_PREFIX = "notification:";

/** What one monitor connection needs. */
export interface MonitorConnectionOptions {
  address: HostPort;
  ca: string[];
  keys: AtKeys;
  /** Replay stored notifications newer than this (server time, ms); absent = live ones only. */
  sinceMs?: number;
  /** Server-side filter on the notification key (or the sender without `@`). */
  regex?: string;
  /** Also receive `self` notifications (enrollment requests, notifications to myself). */
  selfNotifications?: boolean;
  /** Deadline for connect + TLS + prompt + PKAM + the monitor check. */
  connectTimeoutMs: number;
  /** Interval of `noop:0`; an unanswered one at the next tick ends the connection. */
  heartbeatMs: number;
  /** Each pushed notification's JSON text (after `notification: `). */
  onNotification(json: string): void;
}

/** An authenticated connection in monitor mode. */
export interface MonitorConnection {
  /** Resolves with the reason once the connection is gone (never rejects). */
  readonly done: Promise<string>;
  close(reason?: string): void;
}

/**
 * Opens, authenticates and starts monitoring; resolves once the server has accepted the monitor command.
 * Rejects with AtAuthError (PKAM refused), AtServerError (e.g. a bad regex) or AtNetworkError.
 */
export async function openMonitorConnection(opts: MonitorConnectionOptions): Promise<MonitorConnection> {
  const where = `${opts.address.host}:${opts.address.port}`;
  const lines = newLineBuffer(MAX_RESPONSE_BYTES);
  const pending: ((r: AtResponse | Error) => void)[] = [];
  let greeted: (() => void) | null = null;
  const greeting = new Promise<void>((resolve) => (greeted = resolve));
  let finish!: (reason: string) => void;
  const done = new Promise<string>((resolve) => (finish = resolve));
  let link: TlsLink | null = null;
  let endedWith: string | null = null;
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  const end = (reason: string) => {
    if (endedWith !== null) return;
    endedWith = reason;
    clearInterval(heartbeat);
    link?.close();
    const err = new AtNetworkError(`Monitor connection to ${where} lost: ${reason}`);
    for (const p of pending.splice(0)) p(err);
    greeted?.();
    finish(reason);
  };
  const request = (line: string): Promise<AtResponse> =>
    new Promise<AtResponse>((resolve, reject) => {
      if (endedWith !== null || !link) return reject(new AtNetworkError(`Monitor connection to ${where} lost: ${endedWith ?? "not open"}`));
      if (pending.length >= MONITOR_MAX_PENDING_REQUESTS) return reject(new AtNetworkError(`Too many unanswered requests on the monitor connection to ${where}`));
      pending.push((r) => (r instanceof Error ? reject(r) : resolve(r)));
      if (!link.write(line + "\n")) end("write failed");
    });

  const onData = (chunk: Uint8Array) => {
    greeted?.();
    greeted = null;
    // Bytes still arriving after we ended the connection belong to nobody.
    if (endedWith !== null) return;
    let got: string[];
    try {
      got = pushChunk(lines, chunk);
    } catch (e) {
      if (!(e instanceof LineTooLongError)) throw e;
      return end(`a line longer than ${MAX_RESPONSE_BYTES} bytes`);
    }
    for (const raw of got) {
      const text = stripPrompt(raw);
      if (text === "") continue;
      if (endedWith !== null) return;
      if (text.startsWith(NOTIFICATION_PREFIX)) {
        opts.onNotification(text.slice(NOTIFICATION_PREFIX.length).trimStart());
        continue;
      }
      const r = parseResponse(text);
      const p = pending.shift();
      if (!r || !p) return end(`unexpected line "${text.slice(0, 40)}"`);
      p(r);
    }
  };

  const timer = setTimeout(() => end(`not monitoring within ${opts.connectTimeoutMs} ms`), opts.connectTimeoutMs);
  try {
    link = await connectTls({ ...opts.address, ca: opts.ca }, { data: onData, closed: (reason) => end(reason) }, opts.connectTimeoutMs);
    await greeting;
    await authenticate(request, opts.keys);
    const monitorLine = buildCommand({
      verb: "monitor",
      ...(opts.selfNotifications ? { selfNotifications: true } : {}),
      ...(opts.sinceMs !== undefined ? { epochMillis: Math.max(0, Math.floor(opts.sinceMs)) } : {}),
      ...(opts.regex !== undefined ? { regex: opts.regex } : {}),
    });
    // `monitor` answers only when it fails; the `noop:0` after it is answered once the monitor is attached
    // (a connection's commands are handled in order), so the first answer tells which case we are in.
    if (!link.write(monitorLine + "\n")) end("write failed");
    const first = await request("noop:0");
    if (!first.ok) throw errorFromServer(first.code, first.description, monitorLine);
  } catch (e) {
    end("set-up failed");
    // The deadline may have passed while the TLS connect was still under way: that socket is ours to close.
    link?.close();
    throw e instanceof Error ? e : new AtNetworkError(String(e));
  } finally {
    clearTimeout(timer);
  }
  if (endedWith !== null) throw new AtNetworkError(`Monitor connection to ${where} lost: ${endedWith}`);

  heartbeat = setInterval(() => {
    if (pending.length > 0) return end(`no answer to a heartbeat within ${opts.heartbeatMs} ms`);
    request("noop:0").catch(() => {
      // the connection is gone; `done` reports why
    });
  }, opts.heartbeatMs);
  return { done, close: (reason = "closed by the client") => end(reason) };
}

/** `from:` + `pkam:` on the monitor connection, with the device's PKAM key (and enrollment, for APKAM keys). */
async function authenticate(request: (line: string) => Promise<AtResponse>, keys: AtKeys): Promise<void> {
  const from = await request(buildCommand({ verb: "from", atSign: keys.atSign }));
  if (!from.ok) throw errorFromServer(from.code, from.description, "from");
  const signature = signPkam(from.data, { algo: keys.pkamAlgo, privateKey: keys.pkamPrivateKey }, "sha256");
  const pkamLine = buildCommand({
    verb: "pkam",
    signingAlgo: keys.pkamAlgo,
    hashingAlgo: "sha256",
    ...(keys.enrollmentId ? { enrollmentId: keys.enrollmentId } : {}),
    signature,
  });
  const r = await request(pkamLine);
  if (r.ok && r.data === "success") return;
  if (r.ok) throw new AtAuthError(`PKAM answered "${r.data.slice(0, 40)}" instead of success`);
  throw new AtAuthError(`PKAM authentication of the monitor connection failed (${r.code} ${r.description})`, r.code);
}
