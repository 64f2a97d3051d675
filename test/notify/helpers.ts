/**
 * Shared pieces of the notification tests: owner clients over raw TLS, reading monitor lines.
 */
import { join } from "node:path";
import { serviceTls } from "../../core/net/tls.ts";
import { startServer, type RunningServer } from "../../server/index.ts";
import type { NotifyOptions } from "../../server/notify/notify_service.ts";
import { STACK_HOST, type Stack } from "../harness.ts";
import { cramAuth } from "../server_fixture.ts";
import { connectWire, type WireClient } from "../wire_client.ts";

/** An owner-authenticated raw client of `atSign`'s server in `stack`. */
export async function ownerClient(stack: Stack, atSign: string): Promise<WireClient> {
  const s = stack.servers.get(atSign);
  if (!s) throw new Error(`no server for ${atSign}`);
  const c = await connectWire(s.port, stack.ca);
  const r = await cramAuth(c, atSign, s.cramSecret);
  if (r !== "data:success") throw new Error(`cram failed: ${r}`);
  return c;
}

/**
 * Starts one more server in `stack`'s directory with its own notification options (the harness has none),
 * plus its owner client. The caller closes the client and stops the server.
 */
export async function startTunedServer(stack: Stack, atSign: string, notify: NotifyOptions): Promise<{ server: RunningServer; client: WireClient }> {
  const tls = await serviceTls({ home: stack.home });
  const server = await startServer({
    atSign,
    host: STACK_HOST,
    port: 0,
    publicHost: STACK_HOST,
    dataDir: join(stack.home, "servers", atSign),
    tls: { key: tls.key, cert: tls.cert },
    directory: { host: stack.directory.host, port: stack.directory.port, ca: [stack.ca] },
    directoryAdmin: { url: stack.directory.adminUrl, token: stack.directory.token },
    notify,
  });
  const client = await connectWire(server.port, stack.ca);
  const r = await cramAuth(client, atSign, server.cramSecret);
  if (r !== "data:success") throw new Error(`cram failed: ${r}`);
  return { server, client };
}

/** The notification JSON objects in everything a monitor connection received (stats notifications left out). */
export function notificationsIn(received: string, withStats = false): any[] {
  const out: any[] = [];
  // Only complete lines: the last segment may still be arriving.
  for (const line of received.split("\n").slice(0, -1)) {
    const i = line.indexOf("notification: ");
    if (i === -1) continue;
    const n = JSON.parse(line.slice(i + "notification: ".length));
    if (withStats || n.id !== "-1") out.push(n);
  }
  return out;
}

/** Starts monitoring on `c` (no answer line comes back). */
export function startMonitor(c: WireClient, args = ""): void {
  c.raw(`monitor${args}\n`);
}

/** A monitor connection of `atSign`, registered (lines run in order: the noop answers after monitor did). */
export async function registeredMonitor(stack: Stack, atSign: string, args = ""): Promise<WireClient> {
  const c = await ownerClient(stack, atSign);
  startMonitor(c, args);
  c.raw("noop:0\n");
  await c.until((r) => r.includes("data:ok"));
  return c;
}

/** Resolves once `c` received `n` notifications (stats excluded). */
export async function untilNotifications(c: WireClient, n: number, timeoutMs = 20_000): Promise<any[]> {
  const all = await c.until((r) => notificationsIn(r).length >= n, timeoutMs);
  return notificationsIn(all);
}

/** Polls `f` until it returns true or the deadline passes. */
export async function eventually(f: () => Promise<boolean> | boolean, timeoutMs = 20_000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await f()) return;
    if (Date.now() > deadline) throw new Error("condition not met before the deadline");
    await Bun.sleep(stepMs);
  }
}

/** A raw TLS client that can present a client certificate and stop reading (pause). */
export interface RawClient {
  /** Everything received since the last `take`. */
  received(): string;
  take(): string;
  write(text: string): void;
  /** Resolves with the text received once `pred` holds (rejects on close or timeout). */
  until(pred: (received: string) => boolean, timeoutMs?: number): Promise<string>;
  pause(): void;
  resume(): void;
  isClosed(): boolean;
  closed: Promise<void>;
  close(): void;
}

/** Connects to 127.0.0.1:`port`, optionally presenting `cert`, and waits for the first `@`. */
export async function connectRaw(port: number, ca: string, cert?: { key: string; cert: string }): Promise<RawClient> {
  const decoder = new TextDecoder();
  let buf = "";
  let closed = false;
  let onClosed!: () => void;
  const closedP = new Promise<void>((r) => (onClosed = r));
  const waiters = new Set<() => void>();
  const socket = await Bun.connect<undefined>({
    hostname: "127.0.0.1",
    port,
    tls: { ca, serverName: "localhost", ...(cert ?? {}) },
    socket: {
      data(_s, chunk) {
        buf += decoder.decode(chunk, { stream: true });
        for (const w of waiters) w();
      },
      close() {
        closed = true;
        onClosed();
        for (const w of waiters) w();
      },
      error() {},
    },
  });
  const c: RawClient = {
    received: () => buf,
    take() {
      const t = buf;
      buf = "";
      return t;
    },
    write: (text) => void socket.write(text),
    until: (pred, timeoutMs = 20_000) =>
      new Promise<string>((resolve, reject) => {
        const check = () => {
          if (pred(buf)) done(() => resolve(buf));
          else if (closed) done(() => reject(new Error(`closed; received ${JSON.stringify(buf.slice(-300))}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`timed out; received ${JSON.stringify(buf.slice(-300))}`))), timeoutMs);
        const done = (f: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          f();
        };
        waiters.add(check);
        check();
      }),
    pause: () => void socket.pause(),
    resume: () => void socket.resume(),
    isClosed: () => closed,
    closed: closedP,
    close: () => socket.end(),
  };
  await c.until((r) => r === "@");
  c.take();
  return c;
}

/** Sends `line` on a raw client and resolves with the answer line (prompt stripped), for unauthenticated use. */
export async function rawAsk(c: RawClient, line: string): Promise<string> {
  c.take();
  c.write(line + "\n");
  const r = await c.until((t) => t.includes("\n") || /^@[^\s:@]+@$/.test(t));
  c.take();
  return r.split("\n")[0]!;
}

/**
 * Writes the lines `line(i)` for i in [from, to) on `c`, at most `window` ahead of their answers, and resolves
 * with the `data:` answers received before the connection ended or `deadlineMs` passed (kill -9 tests: what was
 * acknowledged). `onAck` runs after each answer.
 */
export async function pipelineAcks(c: RawClient, from: number, to: number, line: (i: number) => string, opts: { window: number; deadlineMs: number; onAck: (acked: number) => void }): Promise<string[]> {
  const acked: string[] = [];
  let next = from;
  let buf = "";
  return await new Promise<string[]>((resolve) => {
    const fill = () => {
      for (; next < to && next - from - acked.length < opts.window; next++) c.write(line(next) + "\n");
    };
    c.until(() => {
      buf += c.take();
      for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n")) {
        const answer = buf.slice(0, nl).replace(/^@(?:[^\s:@]+@)?/, "");
        buf = buf.slice(nl + 1);
        if (!answer.startsWith("data:")) throw new Error(`unexpected answer ${answer}`);
        acked.push(answer.slice(5));
        opts.onAck(acked.length);
      }
      if (from + acked.length === to) {
        c.close();
        resolve(acked);
      } else fill();
      return false;
    }, opts.deadlineMs).catch(() => resolve(acked));
    fill();
  });
}
