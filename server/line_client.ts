/**
 * A minimal outbound atProtocol line client for server-side calls (directory lookups, unauthenticated lookups
 * on other atServers): connect with TLS, wait for the first `@`, send requests one at a time, read each answer
 * up to its prompt, then `@exit`. Every exchange has a deadline and a size bound.
 */
import type { Socket } from "bun";
import { flush, newWriteQueue, send } from "../core/net/write_queue.ts";

/** Largest answer accepted from a remote server (a value can be as large as a request). */
export const REMOTE_ANSWER_MAX_BYTES = 10_240_000 + 1024;
/** Deadline for connecting plus all exchanges of one call (the reference's lookup read timeout). */
export const REMOTE_CALL_TIMEOUT_MS = 5_000;

/** Where to connect and which CAs to trust. */
export interface RemoteEndpoint {
  host: string;
  port: number;
  /** PEM CA certificates; the server's certificate must chain to one of them. */
  ca: string[];
}

/**
 * Sends `requests` in order and returns the first line of each answer (prompt and `\r` removed).
 * Rejects on timeout, TLS failure, an oversized answer or an early close.
 * @example const [addr] = await exchangeLines(directory, ["alice"]) // "localhost:6464" or "null"
 */
export async function exchangeLines(ep: RemoteEndpoint, requests: string[], timeoutMs = REMOTE_CALL_TIMEOUT_MS): Promise<string[]> {
  const answers: string[] = [];
  let buffered = "";
  let greeted = false;
  let socket: Socket<undefined> | undefined;
  const decoder = new TextDecoder();
  const out = newWriteQueue(REMOTE_ANSWER_MAX_BYTES);
  return await new Promise<string[]>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (socket) {
        if (!err) send(socket, out, "@exit\n");
        socket.end();
      }
      if (err) reject(err);
      else resolve(answers);
    };
    const timer = setTimeout(() => finish(new Error(`Cannot reach ${ep.host}:${ep.port}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const next = (s: Socket<undefined>) => {
      if (answers.length === requests.length) return finish();
      send(s, out, requests[answers.length] + "\n");
    };
    Bun.connect<undefined>({
      hostname: ep.host,
      port: ep.port,
      tls: { ca: ep.ca, serverName: ep.host },
      socket: {
        data(s, chunk) {
          buffered += decoder.decode(chunk, { stream: true });
          if (buffered.length > REMOTE_ANSWER_MAX_BYTES) return finish(new Error(`Cannot read from ${ep.host}:${ep.port}: answer too large`));
          if (!greeted) {
            if (!buffered.endsWith("@")) return;
            greeted = true;
            buffered = "";
            return next(s);
          }
          const nl = buffered.indexOf("\n");
          if (nl === -1 || !buffered.endsWith("@")) return;
          answers.push(buffered.slice(0, nl).replace(/\r$/, ""));
          buffered = "";
          next(s);
        },
        drain(s) {
          flush(s, out);
        },
        close() {
          if (!settled) finish(new Error(`Cannot read from ${ep.host}:${ep.port}: connection closed early`));
        },
        connectError(_s, err) {
          finish(new Error(`Cannot connect to ${ep.host}:${ep.port}: ${err.message}`));
        },
        error(_s, err) {
          finish(new Error(`Cannot talk to ${ep.host}:${ep.port}: ${err.message}`));
        },
      },
    }).then(
      (s) => {
        socket = s;
        if (settled) s.end();
      },
      (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))),
    );
  });
}
