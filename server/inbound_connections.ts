/**
 * The inbound connections, for stats:16 (how many of each kind) and stats:17 (who, since when, last heard): read
 * from the live set the metrics keep (server/metrics/counted_handler.ts adds a connection at accept and drops it
 * at close), so there is one table of open connections.
 */
import type { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";

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
  for (const c of ctx.metrics.connections.live) {
    if (c.closed) continue;
    const entry = out[KIND[c.state.auth]];
    entry.count++;
    const from = "atSign" in c.state ? c.state.atSign : null;
    entry.list?.push({ from, created: new Date(c.openedAt).toISOString(), lastAccessed: new Date(c.lastActivityAt).toISOString() });
  }
  return out;
}
