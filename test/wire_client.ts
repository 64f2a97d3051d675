/**
 * A raw atProtocol line client for tests: real TLS, exact bytes. It knows which prompt ends a response
 * (`@` until it authenticates, then `@alice@`), so it never guesses where an answer stops.
 */
import type { Socket } from "bun";

/** Deadline for one answer in tests. */
export const ANSWER_TIMEOUT_MS = 10_000;

/** A connected test client. */
export interface WireClient {
  /** The prompt that ends responses (`@`, or `@alice@` after `auth`). */
  prompt: string;
  /** Every chunk received, in order (for framing assertions). */
  readonly chunks: string[];
  /**
   * Sends `line` + `\n` and resolves with the answer without its trailing prompt. `prompts` overrides which
   * prompts may end this answer (auth verbs: `@alice@` on success, `@` on failure).
   */
  send(line: string, prompts?: string[]): Promise<string>;
  /** Writes raw bytes (no newline added). */
  raw(bytes: string | Uint8Array): void;
  /** Resolves with everything received so far once `pred` holds for it (polls with a deadline). */
  until(pred: (received: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves once the server closed the connection. */
  closed: Promise<void>;
  isClosed(): boolean;
  close(): void;
}

/**
 * Connects and waits for the server's first `@`.
 * @example const c = await connectWire(port, ca); await c.send("info")
 */
export async function connectWire(port: number, ca: string | string[], host = "127.0.0.1"): Promise<WireClient> {
  const decoder = new TextDecoder();
  let received = "";
  const chunks: string[] = [];
  let isClosed = false;
  let onClosed!: () => void;
  const closed = new Promise<void>((r) => (onClosed = r));
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of waiters) w();
  };
  const socket: Socket<undefined> = await Bun.connect<undefined>({
    hostname: host,
    port,
    tls: { ca, serverName: "localhost" },
    socket: {
      data(_s, chunk) {
        const text = decoder.decode(chunk, { stream: true });
        chunks.push(text);
        received += text;
        notify();
      },
      close() {
        isClosed = true;
        onClosed();
        notify();
      },
      error() {},
    },
  });
  const until = (pred: (r: string) => boolean, timeoutMs = ANSWER_TIMEOUT_MS) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        if (pred(received)) {
          cleanup();
          resolve(received);
        } else if (isClosed) {
          cleanup();
          reject(new Error(`connection closed; received ${JSON.stringify(received.slice(-300))}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out; received ${JSON.stringify(received.slice(-300))}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  await until((r) => r === "@");
  received = "";
  const client: WireClient = {
    prompt: "@",
    chunks,
    async send(line, prompts = [client.prompt]) {
      received = "";
      socket.write(line + "\n");
      const ends = prompts.map((p) => "\n" + p);
      const all = await until((r) => ends.some((e) => r.endsWith(e)));
      received = "";
      const end = ends.find((e) => all.endsWith(e))!;
      return all.slice(0, -end.length);
    },
    raw(bytes) {
      socket.write(bytes);
    },
    until,
    closed,
    isClosed: () => isClosed,
    close() {
      socket.end();
    },
  };
  return client;
}
