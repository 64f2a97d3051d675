/**
 * `monitor [REGEX]`: prints one JSON line per notification (values decrypted) until interrupted; after a
 * dropped connection it reconnects with backoff and resumes from the last notification, so nothing is
 * missed or printed twice. Connection changes go to stderr, `monitor: reconnected (…)` once it is back.
 */
import { UsageError } from "../../core/options.ts";
import type { AtNotification } from "../monitor/notification.ts";
import { COMMON_SPEC, EXIT, openClient, type CliCommand } from "./command.ts";

const spec = {
  since: { kind: "number", help: "first replay notifications stored after this time (ms since the epoch)", arg: "MS", env: false },
  self: { kind: "boolean", help: "also show self notifications (e.g. enrollment requests)", default: false, env: false },
  count: { kind: "number", help: "exit after this many notifications", arg: "N", env: false },
} as const;

/** The JSON line printed for a notification. */
export function notificationLine(n: AtNotification): string {
  const { id, from, to, key, value, operation, messageType, epochMillis, isEncrypted, decryptError } = n;
  return JSON.stringify({ id, from, to, key, value, operation, messageType, epochMillis, isEncrypted, ...(decryptError ? { decryptError } : {}) }) + "\n";
}

/** The monitor command. */
export const monitor: CliCommand<typeof spec & typeof COMMON_SPEC> = {
  name: "monitor",
  usage: "bun client.ts monitor [REGEX]",
  spec: { ...COMMON_SPEC, ...spec },
  async run(o, args, io) {
    if (args.length > 1) throw new UsageError("monitor takes at most one REGEX");
    if (o.count !== undefined && (!Number.isSafeInteger(o.count) || o.count < 1)) throw new UsageError("--count needs a positive whole number");
    const client = await openClient(o);
    const m = client.monitor({
      ...(args[0] !== undefined ? { regex: args[0] } : {}),
      ...(o.since !== undefined ? { since: o.since } : {}),
      ...(o.self ? { selfNotifications: true } : {}),
      onStatus: (status, detail) => {
        if (status === "reconnected") io.err(`monitor: reconnected${detail ? ` (${detail})` : ""}`);
        else if (status !== "connected") io.err(`monitor: ${status === "lost" ? "connection lost" : "reconnect failed"}${detail ? ` (${detail})` : ""}; retrying`);
      },
    });
    const stop = () => m.close();
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    let printed = 0;
    try {
      await m.ready;
      io.err(`monitoring ${client.atSign}${args[0] !== undefined ? ` (${args[0]})` : ""}; Ctrl-C to stop`);
      for await (const n of m) {
        io.out(notificationLine(n));
        await io.flush?.();
        if (o.count !== undefined && ++printed >= o.count) break;
      }
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      m.close();
      client.close();
    }
    return EXIT.ok;
  },
};
