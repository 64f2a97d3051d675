/**
 * /metrics, /healthz and /readyz of a hosting process (core/metrics/admin_routes.ts, on the provisioning API's
 * port): the counters of every tenant in one record (no @sign label: a scrape must not list the @signs hosted),
 * the gauges summed over the open stores (a closed store has no queue, no sessions and is not read).
 */
import type { Observable } from "../../core/metrics/admin_routes.ts";
import { renderServerMetrics } from "../metrics/render.ts";
import type { TenantPool } from "./tenant_pool.ts";

/** The pool as the observability routes see it; `accepting` is false once the process stops. */
export function hostingObservable(pool: TenantPool, accepting: () => boolean): Observable {
  return {
    metrics() {
      const gauges = { outboundSessions: 0, queueDepth: 0, keystoreBytes: 0 };
      for (const t of pool.open) {
        const st = t.state!;
        gauges.outboundSessions += st.notify.pool.count();
        gauges.queueDepth += st.notify.store.pendingCount();
        gauges.keystoreBytes += st.ctx.keystore.sizeBytes();
      }
      return renderServerMetrics([{ metrics: pool.metrics, gauges }]);
    },
    health: () => ({ tenants: pool.tenants.size, open: pool.open.size }),
    readiness: () => (accepting() ? [] : ["stopping"]),
  };
}
