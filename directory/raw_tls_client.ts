/**
 * A raw TLS client for tests and the bench: records every byte the server sends, so tests can assert on the
 * exact wire bytes (prompts, CRLF) instead of on a parsed view.
 */
import type { Socket } from "bun";

/** How long `waitFor` waits by default before failing. */
export const RAW_WAIT_TIMEOUT_MS = 5_000;

export interface RawTlsConn {
  /** Everything received so far, decoded as UTF-8. */
  received(): string;
  /** Forgets what was received so far (the next `waitFor` looks at new bytes only). */
  clear(): void;
  write(text: string | Uint8Array): void;
  /** Resolves once `received()` ends with `suffix` (or satisfies the predicate); rejects at the deadline. */
  waitFor(suffix: string | ((got: string) => boolean), timeoutMs?: number): Promise<string>;
  /** Resolves when the server closes the connection. */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  close(): void;
}

/**
 * Opens a TLS connection to 127.0.0.1:`port` that trusts `ca` and checks the name `serverName`.
 * Resolves after the handshake, so writes are never lost (a Bun client write before it is dropped).
 */
export function dialTls(port: number, opts: { ca: string | string[]; serverName?: string; host?: string }): Promise<RawTlsConn> {
  let got = "";
  let closed = false;
  let onClose!: () => void;
  const closedP = new Promise<void>((r) => (onClose = r));
  const waiters = new Set<() => void>();
  const decoder = new TextDecoder();
  return new Promise((resolve, reject) => {
    let sock: Socket<undefined> | undefined;
    const conn: RawTlsConn = {
      received: () => got,
      clear: () => void (got = ""),
      write(text) {
        const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
        // Test payloads are small; a short write here would be a test bug worth failing on.
        const n = sock!.write(bytes);
        if (n !== bytes.byteLength) throw new Error(`Cannot write test payload: socket took ${n} of ${bytes.byteLength} bytes`);
      },
      waitFor(want, timeoutMs = RAW_WAIT_TIMEOUT_MS) {
        const ok = typeof want === "string" ? (g: string) => g.endsWith(want) : want;
        return new Promise((res, rej) => {
          const check = () => {
            if (ok(got)) {
              done();
              res(got);
            } else if (closed) {
              done();
              rej(new Error(`Connection closed before the expected bytes; got ${JSON.stringify(got)}`));
            }
          };
          const timer = setTimeout(() => {
            done();
            rej(new Error(`Timed out waiting; got ${JSON.stringify(got)}`));
          }, timeoutMs);
          const done = () => {
            clearTimeout(timer);
            waiters.delete(check);
          };
          waiters.add(check);
          check();
        });
      },
      closed: closedP,
      isClosed: () => closed,
      close: () => sock?.end(),
    };
    const wake = () => {
      for (const w of [...waiters]) w();
    };
    Bun.connect({
      hostname: opts.host ?? "127.0.0.1",
      port,
      tls: { ca: opts.ca, serverName: opts.serverName ?? "localhost" },
      socket: {
        handshake(s, ok, err) {
          if (!ok || err) {
            reject(err ?? new Error("TLS handshake failed"));
            s.end();
            return;
          }
          sock = s;
          resolve(conn);
        },
        data(_s, chunk) {
          got += decoder.decode(chunk, { stream: true });
          wake();
        },
        close() {
          closed = true;
          onClose();
          reject(new Error("Connection closed before the TLS handshake finished"));
          wake();
        },
        connectError(_s, err) {
          reject(err);
        },
      },
    }).catch(reject);
  });
}
