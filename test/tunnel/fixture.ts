/**
 * What the tunnel tests share: a real stack (directory + atServers of @bob, @device, @mallory, @relay, onboarded
 * through the SDK), a real relay, a target service on loopback, and helpers to start daemons and tunnels.
 */
import { join } from "node:path";
import type { Socket, TCPSocketListener } from "bun";
import { readAtKeysFile, type AtKeys } from "../../core/crypto/index.ts";
import { AtClient } from "../../client/at_client.ts";
import { type Daemon, startDaemon } from "../../client/tunnel/daemon.ts";
import { type Endpoint, openEndpoint } from "../../client/tunnel/endpoint.ts";
import { parsePermit } from "../../client/tunnel/permits.ts";
import { type Tunnel, type TunnelOptions, openTunnel } from "../../client/tunnel/tunnel_client.ts";
import { concatBytes } from "../../core/bytes.ts";
import { flush, newWriteQueue, send, type WriteQueue } from "../../core/net/write_queue.ts";
import { startRelay, type RelayHandle, type ResolvePublicKey } from "../../relay/index.ts";
import { cachedResolver, directoryResolver } from "../../relay/public_key_resolver.ts";
import { type Stack, startStack } from "../harness.ts";

/** Everything a tunnel test needs. */
export interface TunnelWorld {
  stack: Stack;
  relay: RelayHandle;
  /** The public key lookup the world's relay uses (for extra relays in tests). */
  resolvePublicKey: ResolvePublicKey;
  keys: Map<string, AtKeys>;
  keysFile(atSign: string): string;
  directory: { host: string; port: number };
  echo: TCPSocketListener<unknown>;
  /** A daemon for @device (`allow` default [@bob]; permits default the echo server). */
  daemon(opts?: WorldDaemonOptions): Promise<WorldDaemon>;
  /** A tunnel from `as` (default @bob) to @device's echo target. */
  tunnel(opts?: WorldTunnelOptions): Promise<WorldTunnel>;
  /** Runs `body` with a daemon and a tunnel to it, and stops both afterwards whatever happened. */
  withTunnel(opts: { daemon?: WorldDaemonOptions; tunnel?: WorldTunnelOptions }, body: (t: WorldTunnel, d: WorldDaemon) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** Options of TunnelWorld.daemon. */
export interface WorldDaemonOptions {
  allow?: string[];
  permits?: string[];
  name?: string;
  blockListPollMs?: number;
  keepaliveMs?: number;
}
/** A daemon started by TunnelWorld.daemon. */
export interface WorldDaemon {
  daemon: Daemon;
  endpoint: Endpoint;
  stop(): void;
}
/** Options of TunnelWorld.tunnel. */
export type WorldTunnelOptions = Partial<Pick<TunnelOptions, "target" | "deviceName" | "onStreamEnd" | "keepaliveMs" | "relay" | "pick" | "setupTimeoutMs">> & { as?: string; relayPort?: number };
/** A tunnel opened by TunnelWorld.tunnel. */
export interface WorldTunnel {
  tunnel: Tunnel;
  endpoint: Endpoint;
  stop(): void;
}

/** Starts the world. */
export async function startTunnelWorld(): Promise<TunnelWorld> {
  const atSigns = ["@bob", "@device", "@mallory", "@relay"];
  const stack = await startStack({ atSigns });
  const directory = { host: stack.directory.host, port: stack.directory.port };
  const keys = new Map<string, AtKeys>();
  const keysFile = (a: string) => join(stack.home, "keys", `${a}_key.atKeys`);
  await Promise.all(
    atSigns.map(async (a) => {
      const { client } = await AtClient.onboard(a, stack.servers.get(a)!.cramSecret, { directory, ca: [stack.ca], keysFile: keysFile(a) });
      client.close();
      keys.set(a, await readAtKeysFile(keysFile(a)));
    }),
  );
  const resolvePublicKey = cachedResolver(directoryResolver({ ...directory, ca: [stack.ca] }));
  const relay = await startRelay({ relayAtSign: "@relay", host: "127.0.0.1", port: 0, resolvePublicKey });
  const echo = Bun.listen<unknown>({
    hostname: "127.0.0.1",
    port: 0,
    allowHalfOpen: true,
    socket: echoHandlers(),
  });
  const cleanups = new Set<() => void>();
  const world: TunnelWorld = {
    stack,
    relay,
    resolvePublicKey,
    keys,
    keysFile,
    directory,
    echo,
    async daemon(o = {}) {
      let daemon: Daemon | null = null;
      const endpoint = await openEndpoint({ keys: keys.get("@device")!, directory, ca: [stack.ca], device: o.name ?? "default", onRejected: (f, sid, r) => daemon?.rejected(f, sid, r) });
      daemon = startDaemon({
        client: endpoint.client,
        keys: endpoint.keys,
        channel: endpoint.channel,
        name: o.name ?? "default",
        permits: (o.permits ?? [`127.0.0.1:${echo.port}`]).map(parsePermit),
        allow: o.allow ?? ["@bob"],
        ...(o.blockListPollMs ? { blockListPollMs: o.blockListPollMs } : {}),
        ...(o.keepaliveMs ? { keepaliveMs: o.keepaliveMs } : {}),
      });
      const d = daemon;
      const stop = () => {
        cleanups.delete(stop);
        d.stop();
        endpoint.close();
      };
      cleanups.add(stop);
      return { daemon: d, endpoint, stop };
    },
    async tunnel(o = {}) {
      const as = o.as ?? "@bob";
      const endpoint = await openEndpoint({ keys: keys.get(as)!, directory, ca: [stack.ca], device: o.deviceName ?? "default" });
      try {
        const tunnel = await openTunnel({
          client: endpoint.client,
          keys: endpoint.keys,
          channel: endpoint.channel,
          device: "@device",
          deviceName: o.deviceName ?? "default",
          target: o.target ?? `127.0.0.1:${echo.port}`,
          local: { host: "127.0.0.1", port: 0 },
          relay: o.relay ?? { host: "127.0.0.1", port: o.relayPort ?? relay.port, atSign: "@relay" },
          ...(o.pick ? { pick: o.pick } : {}),
          setupTimeoutMs: o.setupTimeoutMs ?? 10_000,
          ...(o.onStreamEnd ? { onStreamEnd: o.onStreamEnd } : {}),
          ...(o.keepaliveMs ? { keepaliveMs: o.keepaliveMs } : {}),
        });
        const stop = () => {
          cleanups.delete(stop);
          tunnel.close();
          endpoint.close();
        };
        cleanups.add(stop);
        return { tunnel, endpoint, stop };
      } catch (e) {
        endpoint.close();
        throw e;
      }
    },
    async withTunnel(opts, body) {
      const d = await world.daemon(opts.daemon);
      try {
        const t = await world.tunnel(opts.tunnel);
        try {
          await body(t, d);
        } finally {
          t.stop();
        }
      } finally {
        d.stop();
      }
    },
    async stop() {
      for (const c of [...cleanups]) c();
      echo.stop(true);
      await relay.stop();
      await stack.stop();
    },
  };
  return world;
}

/** Echo handlers with backpressure and half-close (FIN in → FIN out once everything is echoed). */
export function echoHandlers() {
  type S = Socket<{ q: Uint8Array[]; fin: boolean }>;
  const pump = (s: S) => {
    const st = s.data;
    while (st.q.length) {
      const head = st.q[0]!;
      const n = s.write(head);
      if (n < 0) return;
      if (n < head.byteLength) {
        st.q[0] = head.subarray(n);
        s.pause();
        return;
      }
      st.q.shift();
    }
    s.resume();
    if (st.fin) s.shutdown();
  };
  return {
    binaryType: "uint8array" as const,
    open(s: S) {
      s.data = { q: [], fin: false };
    },
    data(s: S, chunk: Uint8Array) {
      s.data.q.push(chunk);
      pump(s);
    },
    drain: pump,
    end(s: S) {
      s.data.fin = true;
      pump(s);
    },
    error() {},
  };
}

/** A TCP client that collects what it receives. */
export interface TestConn {
  sock: Socket<unknown>;
  received(): Uint8Array;
  bytes(): number;
  /** Resolves when the peer closed or half-closed (FIN) — `how` says which, "reset"/"error" for errors. */
  ended: Promise<string>;
  write(b: Uint8Array | string): Promise<void>;
  shutdown(): void;
}

/** Connects to 127.0.0.1:`port`, keeping (`keep`) or only counting the received bytes, with a running hash. */
export async function connectTest(port: number, opts: { keep?: boolean; onData?: (c: Uint8Array) => void } = {}): Promise<TestConn> {
  const parts: Uint8Array[] = [];
  let total = 0;
  let endResolve!: (how: string) => void;
  const ended = new Promise<string>((r) => (endResolve = r));
  const pending: { data: Uint8Array; resolve(): void }[] = [];
  const pump = (s: Socket<unknown>) => {
    while (pending.length) {
      const head = pending[0]!;
      const n = s.write(head.data);
      if (n < 0) return;
      if (n < head.data.byteLength) {
        head.data = head.data.subarray(n);
        return;
      }
      pending.shift();
      head.resolve();
    }
  };
  const sock = await Bun.connect<unknown>({
    hostname: "127.0.0.1",
    port,
    allowHalfOpen: true,
    socket: {
      binaryType: "uint8array",
      data(_s, chunk) {
        total += chunk.byteLength;
        if (opts.keep !== false) parts.push(chunk);
        opts.onData?.(chunk);
      },
      drain: pump,
      end: () => endResolve("fin"),
      close: (_s, err) => endResolve(err ? "error" : "close"),
      error: () => endResolve("error"),
    },
  });
  return {
    sock,
    received: () => new Uint8Array(Buffer.concat(parts)),
    bytes: () => total,
    ended,
    write(b) {
      const data = typeof b === "string" ? new TextEncoder().encode(b) : b;
      return new Promise((resolve) => {
        pending.push({ data, resolve });
        pump(sock);
      });
    },
    shutdown: () => sock.shutdown(),
  };
}

/** Polls `f` until true or the deadline passes. */
export async function until(f: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await Bun.sleep(10);
  }
}

/** What a proxy hook may do with a chunk: pass it on (possibly changed or merged with others), or keep it. */
type Deliver = (chunk: Uint8Array) => void;

/** One proxied connection as the hooks see it: its number (1 = first accepted), state the hooks keep, and a way to end it. */
interface ProxyConn {
  index: number;
  state: Record<string, unknown>;
  close(): void;
}

interface ProxyHooks {
  /** A chunk the client sent, on its way to the target. */
  toTarget?(chunk: Uint8Array, conn: ProxyConn, deliver: Deliver): void;
  /** A chunk the target sent, on its way to the client. */
  toClient?(chunk: Uint8Array, conn: ProxyConn, deliver: Deliver): void;
  /** The connection closed (release timers). */
  closed?(conn: ProxyConn): void;
}

/** One end of a proxied connection. */
interface ProxyEnd {
  q: WriteQueue;
  peer: Socket<ProxyEnd> | null;
  early: Uint8Array[];
  conn: ProxyConn;
}

/**
 * A TCP proxy to 127.0.0.1:`targetPort` for on-path tests; `hooks` see each chunk in each direction. Writes go
 * through write queues both ways, and reading pauses while the other side's queue drains.
 */
function startProxy(targetPort: number, hooks: ProxyHooks): TCPSocketListener<ProxyEnd> {
  let accepted = 0;
  const forward = (to: Socket<ProxyEnd>, chunk: Uint8Array) => {
    if (send(to, to.data.q, chunk) !== "sent") to.data.peer?.pause();
  };
  const drain = (s: Socket<ProxyEnd>) => {
    if (flush(s, s.data.q)) s.data.peer?.resume();
  };
  const toTarget = (client: Socket<ProxyEnd>, chunk: Uint8Array) => {
    const up = client.data.peer;
    if (!up) return void client.data.early.push(chunk);
    if (hooks.toTarget) hooks.toTarget(chunk, client.data.conn, (c) => forward(up, c));
    else forward(up, chunk);
  };
  return Bun.listen<ProxyEnd>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        const conn: ProxyConn = { index: ++accepted, state: {}, close: () => void client.end() };
        client.data = { q: newWriteQueue(), peer: null, early: [], conn };
        void Bun.connect<ProxyEnd>({
          hostname: "127.0.0.1",
          port: targetPort,
          data: { q: newWriteQueue(), peer: client, early: [], conn },
          socket: {
            data(_up, c) {
              if (hooks.toClient) hooks.toClient(c, conn, (d) => forward(client, d));
              else forward(client, c);
            },
            drain,
            close: () => void client.end(),
            error() {},
          },
        }).then(
          (up) => {
            client.data.peer = up;
            for (const c of client.data.early.splice(0)) toTarget(client, c);
          },
          () => void client.end(),
        );
      },
      data: toTarget,
      drain,
      close(client) {
        hooks.closed?.(client.data.conn);
        client.data.peer?.end();
      },
      error() {},
    },
  });
}

/** A proxy that flips one bit of byte `flipAt` of what each client sends (a tampering on-path attacker). */
export function startFlipProxy(targetPort: number, flipAt: number): TCPSocketListener<ProxyEnd> {
  return startProxy(targetPort, {
    toTarget(chunk, conn, deliver) {
      const seen = (conn.state.seen as number | undefined) ?? 0;
      const c = new Uint8Array(chunk);
      const at = flipAt - seen;
      if (at >= 0 && at < c.byteLength) c[at]! ^= 0x01;
      conn.state.seen = seen + c.byteLength;
      deliver(c);
    },
  });
}

/**
 * A proxy that, on its `connection`-th accepted connection only, passes the first `passEvents` chunks from the
 * target through and then holds the next two, releasing them as ONE chunk: what a busy reader gets when two of
 * the peer's writes pile up in its socket. Used to deliver a tunnel requester's offer and its first `open` frame
 * to the daemon in the same read. A held chunk is released after `releaseAfterMs` at the latest, so a connection
 * that never sends a second one is not stuck.
 */
export function startCoalescingProxy(targetPort: number, opts: { connection: number; passEvents: number; releaseAfterMs?: number }): TCPSocketListener<ProxyEnd> {
  return startProxy(targetPort, {
    toClient(chunk, conn, deliver) {
      const events = ((conn.state.events as number | undefined) ?? 0) + 1;
      conn.state.events = events;
      if (conn.index !== opts.connection || events <= opts.passEvents || events > opts.passEvents + 2) return deliver(chunk);
      const held = ((conn.state.held as Uint8Array[] | undefined) ??= []);
      held.push(new Uint8Array(chunk));
      const release = () => {
        clearTimeout(conn.state.timer as ReturnType<typeof setTimeout> | undefined);
        if (held.length) deliver(concatBytes(held.splice(0)));
      };
      if (held.length === 2) release();
      else conn.state.timer = setTimeout(release, opts.releaseAfterMs ?? 2_000);
    },
    closed: (conn) => clearTimeout(conn.state.timer as ReturnType<typeof setTimeout> | undefined),
  });
}

/**
 * A proxy that passes probes (4 bytes) but, at the first AUTH frame a leg sends, stops itself and calls `trip`
 * (which kills the relay behind it): a relay that dies while a tunnel session is being set up on it.
 */
export function startTripwireProxy(targetPort: number, trip: () => void): TCPSocketListener<ProxyEnd> {
  let tripped = false;
  const proxy: TCPSocketListener<ProxyEnd> = startProxy(targetPort, {
    toTarget(chunk, _conn, deliver) {
      if (tripped) return;
      if (chunk.byteLength <= 4) return deliver(chunk);
      tripped = true;
      proxy.stop(true);
      trip();
    },
  });
  return proxy;
}

/** A proxy that closes the `connection`-th connection when it sends its AUTH frame: a relay that one end cannot join. */
export function startRefuseNthProxy(targetPort: number, connection: number): TCPSocketListener<ProxyEnd> {
  return startProxy(targetPort, {
    toTarget(chunk, conn, deliver) {
      if (conn.index === connection && chunk.byteLength > 4) return conn.close();
      deliver(chunk);
    },
  });
}
