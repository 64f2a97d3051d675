/**
 * `sync`: brings this device's local cache of my keys up to date with my atServer (pull) and sends the
 * changes made here (push); the reference conflict rule applies (an unpushed local change wins).
 */
import { UsageError } from "../../core/options.ts";
import { AtSync, syncCachePath, type SyncReport } from "../sync/at_sync.ts";
import { COMMON_SPEC, EXIT, emit, keysFileFor, openClient, type CliCommand } from "./command.ts";

const spec = {
  cache: { kind: "string", help: "the local cache file (default: beside the .atKeys file)", arg: "FILE", env: false },
  list: { kind: "boolean", help: "print the cached keys afterwards", default: false, env: false },
  watch: { kind: "boolean", help: "keep syncing whenever the server reports a change (until interrupted)", default: false, env: false },
} as const;

/** The sync command. */
export const sync: CliCommand<typeof spec & typeof COMMON_SPEC> = {
  name: "sync",
  usage: "bun client.ts sync [--cache FILE] [--list] [--watch]",
  spec: { ...COMMON_SPEC, ...spec },
  async run(o, args, io) {
    if (args.length > 0) throw new UsageError("sync takes no arguments");
    const file = o.cache ?? syncCachePath(keysFileFor(o));
    const client = await openClient(o);
    const cache = AtSync.open(client, file);
    const print = (report: SyncReport) => {
      const keys = o.list ? cache.keys() : undefined;
      const conflicts = report.conflicts.length ? `; conflicts (local kept): ${report.conflicts.map((c) => c.key).join(", ")}` : "";
      const failed = report.failed.length ? `; refused: ${report.failed.map((f) => `${f.key} (${f.error})`).join(", ")}` : "";
      const text = `pulled ${report.pulled}, pushed ${report.pushed}, up to commit ${report.lastCommitId}${conflicts}${failed}\n${keys ? keys.map((k) => k + "\n").join("") : ""}`;
      emit(io, o.json, { ...report, cache: file, ...(keys ? { keys } : {}) }, text);
      return report.failed.length ? EXIT.network : EXIT.ok;
    };
    try {
      if (!o.watch) return print(await cache.sync());
      const watch = cache.watch({ onSync: (r) => void (print(r), io.flush?.()), onError: (e) => io.err(`sync: ${e.message}`) });
      const stop = () => watch.close();
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
      try {
        await watch.ready;
        io.err(`watching ${client.atSign}; Ctrl-C to stop`);
        // The monitor yields nothing (stats only); its iteration ends when it is closed.
        for await (const _ of watch);
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
      return EXIT.ok;
    } finally {
      cache.close();
      client.close();
    }
  },
};
