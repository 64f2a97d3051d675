/**
 * One status line on the terminal while the bench runs (rewritten in place), silent when stderr is not a TTY
 * so logs and CI output stay clean.
 */

/** Reports what is running now. */
export interface Progress {
  update(scenario: string, message: string): void;
  /** Clears the status line (before the final table is printed). */
  clear(): void;
}

/** Widest status line when the terminal does not say its width. */
const DEFAULT_COLUMNS = 100;

/** Progress on `stream` when it is a TTY (or `enabled` says so), otherwise a no-op. */
export function newProgress(stream: NodeJS.WriteStream = process.stderr, enabled = Boolean(stream.isTTY)): Progress {
  if (!enabled) return { update() {}, clear() {} };
  let shown = false;
  return {
    update(scenario, message) {
      const width = (stream.columns || DEFAULT_COLUMNS) - 1;
      stream.write(`\r\x1b[2K${`[${scenario}] ${message}`.slice(0, width)}`);
      shown = true;
    },
    clear() {
      if (shown) stream.write("\r\x1b[2K");
      shown = false;
    },
  };
}
