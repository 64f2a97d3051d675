/**
 * The standard process figures every Prometheus exporter shows, so one dashboard reads them for any service.
 */
import type { ExpositionWriter } from "./exposition.ts";

/** Writes process_resident_memory_bytes and process_start_time_seconds (read now; ~50 µs, once per scrape). */
export function writeProcessMetrics(w: ExpositionWriter): void {
  w.gauge("process_resident_memory_bytes", "Resident memory of the process.", process.memoryUsage.rss());
  w.gauge("process_start_time_seconds", "When the process started (Unix time).", Math.round(performance.timeOrigin) / 1000);
}
