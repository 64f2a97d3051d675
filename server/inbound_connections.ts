/**
 * The inbound connections that have spoken, per server, for stats:16 (how many of each kind) and stats:17 (who,
 * since when, last heard). The dispatcher notes a connection at its first line and forgets it when it closes.
 */
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";

const live = new WeakMap<ServerContext, Set<Connection>>();

/** Records `conn` as live on `ctx` (idempotent). */
export function noteConnection(ctx: ServerContext, conn: Connection): void {
  let set = live.get(ctx);
  if (!set) live.set(ctx, (set = new Set()));
  set.add(conn);
}

/** Drops `conn` (on close). */
export function forgetConnection(ctx: ServerContext, conn: Connection): void {
  live.get(ctx)?.delete(conn);
}

type Kind = "selfAuthenticated" | "polAuthenticated" | "unAuthenticated";

const KIND: Record<Connection["state"]["auth"], Kind> = { owner: "selfAuthenticated", pol: "polAuthenticated", none: "unAuthenticated" };

/**
 * The reference's inbound summary (`detailed` false: counts) or report (`detailed`: each connection's @sign, when
 * it was opened and last heard, as ISO 8601 UTC), by kind: the owner's own, other servers', unauthenticated.
 */
export function inboundStats(ctx: ServerContext, detailed: boolean): Record<Kind, { count: number; list?: unknown[] }> {
  const out: Record<Kind, { count: number; list?: unknown[] }> = {
    selfAuthenticated: { count: 0 },
    polAuthenticated: { count: 0 },
    unAuthenticated: { count: 0 },
  };
  if (detailed) for (const k of Object.values(out)) k.list = [];
  for (const c of live.get(ctx) ?? []) {
    if (c.closed) continue;
    const entry = out[KIND[c.state.auth]];
    entry.count++;
    const from = "atSign" in c.state ? c.state.atSign : null;
    entry.list?.push({ from, created: new Date(c.openedAt).toISOString(), lastAccessed: new Date(c.lastActivityAt).toISOString() });
  }
  return out;
}
