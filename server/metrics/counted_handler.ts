/**
 * The listener's connection events into a ServerMetrics record: a line handler around the dispatcher that
 * keeps the set of open connections (classified by kind only when scraped) and counts refusals.
 */
import type { LineHandler } from "../listener.ts";
import type { ServerMetrics } from "./server_metrics.ts";

/**
 * `handler`, with its connections counted in `m`.
 * @example startListener({ ...opts, handler: countedHandler(ctx.metrics, newDispatcher(ctx)) });
 */
export function countedHandler(m: ServerMetrics, handler: LineHandler): LineHandler {
  const c = m.connections;
  return {
    handleLine: handler.handleLine,
    onOpen(conn) {
      c.accepted++;
      c.live.add(conn);
      handler.onOpen?.(conn);
    },
    onClose(conn) {
      c.live.delete(conn);
      handler.onClose?.(conn);
    },
    onRefuse(reason) {
      c.refused[reason]++;
    },
  };
}
