/**
 * Shared set-up of the client notification tests: a real stack (test/harness.ts), SDK clients onboarded
 * into it, and a TCP pass-through the tests can cut to kill a monitor's connection from the outside.
 */
import { Database } from "bun:sqlite";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Socket, TCPSocketListener } from "bun";
import { flush, newWriteQueue, send, type WriteQueue } from "../../core/net/write_queue.ts";
import type { AtNotification } from "../../client/monitor/notification.ts";
import type { Stack } from "../harness.ts";

export { keysFileOf, netOf, onboarded } from "../sdk_fixture.ts";

/** One row of a server's notifications.sqlite, as stored (meta parsed). */
export interface StoredRow {
  id: string;
  type: string;
  key: string;
  value: string | null;
  meta: Record<string, unknown>;
}

/** The notification rows with `id` in the store of `atSign`'s server, read from its sqlite file. */
export function storedNotifications(stack: Stack, atSign: string, id: string): StoredRow[] {
  const db = new Database(join(stack.home, "servers", atSign, "notifications.sqlite"), { readonly: true });
  try {
    return db
      .query<{ id: string; type: string; key: string; value: string | null; meta: string }, [string]>("SELECT id, type, key, value, meta FROM notifications WHERE id = ?")
      .all(id)
      .map((r) => ({ ...r, meta: JSON.parse(r.meta) as Record<string, unknown> }));
  } finally {
    db.close();
  }
}

/** Every byte `atSign`'s server keeps of its notifications (database file and its WAL), as latin1 text. */
export function notificationStoreBytes(stack: Stack, atSign: string): string {
  const base = join(stack.home, "servers", atSign, "notifications.sqlite");
  return [base, `${base}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f).toString("latin1")).join("");
}

/** Collects what an iterator yields in the background. */
export function collect(it: AsyncIterable<AtNotification>): { items: AtNotification[]; done: Promise<void> } {
  const items: AtNotification[] = [];
  const done = (async () => {
    for await (const n of it) items.push(n);
  })();
  return { items, done };
}

/** Polls `f` until true or the deadline passes. */
export async function eventually(f: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await Bun.sleep(20);
  }
}

/** A TCP pass-through to a server; `cut()` drops every connection, `refuse` makes it drop new ones at once. */
export interface Cutter {
  port: number;
  /** Where new connections go (changeable: a server that moved, or another one at the old address). */
  targetPort: number;
  refuse: boolean;
  /** While true, bytes are swallowed in both directions (a connection that hangs without closing). */
  stall: boolean;
  /** Connections accepted so far. */
  accepted: number;
  cut(): void;
  stop(): void;
}

interface Pair {
  peer: Socket<Pair> | null;
  /** Bytes for this socket that it has not taken yet. */
  out: WriteQueue;
  /** Bytes from the client that arrived before the upstream connection was open. */
  pending: Uint8Array[];
}

/** Bytes one side of the pass-through may hold for the other. */
const CUTTER_QUEUE_LIMIT_BYTES = 8 * 1024 * 1024;

/** Starts a pass-through on 127.0.0.1 to `targetPort`. */
export function startCutter(targetPort: number): Cutter {
  const live = new Set<Socket<Pair>>();
  const forward = (to: Socket<Pair> | null, chunk: Uint8Array, pending: Uint8Array[]) => {
    if (cutter.stall) return;
    if (!to) return void pending.push(chunk.slice());
    if (send(to, to.data.out, chunk) === "overflow") to.terminate();
  };
  const cutter: Cutter = {
    port: 0,
    targetPort,
    refuse: false,
    stall: false,
    accepted: 0,
    cut() {
      for (const s of live) s.terminate();
      live.clear();
    },
    stop() {
      cutter.cut();
      listener.stop(true);
    },
  };
  const listener: TCPSocketListener<Pair> = Bun.listen<Pair>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        client.data = { peer: null, out: newWriteQueue(CUTTER_QUEUE_LIMIT_BYTES), pending: [] };
        if (cutter.refuse) return void client.terminate();
        cutter.accepted++;
        live.add(client);
        void Bun.connect<Pair>({
          hostname: "127.0.0.1",
          port: cutter.targetPort,
          data: { peer: client, out: newWriteQueue(CUTTER_QUEUE_LIMIT_BYTES), pending: [] },
          socket: {
            open(upstream) {
              live.add(upstream);
              client.data.peer = upstream;
              for (const c of client.data.pending.splice(0)) forward(upstream, c, []);
            },
            data(upstream, chunk) {
              forward(upstream.data.peer, chunk, []);
            },
            drain(upstream) {
              flush(upstream, upstream.data.out);
            },
            close(upstream) {
              live.delete(upstream);
              upstream.data.peer?.end();
            },
          },
        }).catch(() => client.terminate());
      },
      data(client, chunk) {
        forward(client.data.peer, chunk, client.data.pending);
      },
      drain(client) {
        flush(client, client.data.out);
      },
      close(client) {
        live.delete(client);
        client.data.peer?.end();
      },
    },
  });
  cutter.port = listener.port;
  return cutter;
}
