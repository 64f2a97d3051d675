/**
 * Structured logging: one JSON object per line on stderr, quiet by default.
 *
 * The level comes from `INLAY_LOG` (debug | info | warn | error | silent; default warn), so a service prints
 * only its "listening" line on stdout unless something needs attention.
 */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 } as const;
export type LogLevel = keyof typeof LEVELS;

let threshold: number = LEVELS[(process.env.INLAY_LOG as LogLevel) ?? "warn"] ?? LEVELS.warn;

/** Changes the minimum level that is written (tests and `--verbose` flags use this). */
export function setLogLevel(level: LogLevel): void {
  threshold = LEVELS[level];
}

export type Logger = Record<Exclude<LogLevel, "silent">, (msg: string, fields?: Record<string, unknown>) => void>;

/**
 * Returns a logger whose lines carry `part` (e.g. "directory", "server@alice").
 * @example const log = logger("relay"); log.warn("pairing refused", { peer: "127.0.0.1:5555" });
 */
export function logger(part: string): Logger {
  const write = (level: Exclude<LogLevel, "silent">) => (msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < threshold) return;
    const line = JSON.stringify({ t: new Date().toISOString(), level, part, msg, ...fields });
    // console.error, not process.stderr: in Bun the first touch of process.stdout/stderr builds a node stream
    // that costs the process ~7 MiB RSS (console.* writes the same bytes for ~0.1 MiB), and services log rarely.
    console.error(line);
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

/**
 * What a log line may say about an error that a user's request or data caused: its atProtocol code or its
 * class, not its message, which can quote key names, values or other @signs.
 * @example log.debug("cache refresh failed", { error: errorKind(err) }) // "AT0021"
 */
export function errorKind(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  return err instanceof Error ? err.name : typeof err;
}
