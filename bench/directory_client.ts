/**
 * A long-lived directory connection for measuring lookups: TLS (the client's own link), the first `@`, then
 * one `name\n` → `host:port\r\n@` exchange after another on the same connection, as the wire allows.
 */
import { connectTls, type TlsLink, type TlsTarget } from "../client/connection/tls_link.ts";
import { newLineBuffer, pushChunk } from "../core/net/line_buffer.ts";
import { MAX_DIRECTORY_LINE_CHARS } from "../core/wire/limits.ts";

/** Deadline for connect + handshake + first prompt. */
const DIRECTORY_CONNECT_TIMEOUT_MS = 10_000;

/** One connection, one lookup at a time. */
export interface DirectoryConn {
  /** The directory's answer for `name` (an @sign without `@`): `host:port`, or `null`. */
  lookup(name: string): Promise<string>;
  close(): void;
}

/** Connects and waits for the directory's prompt. */
export async function openDirectoryConn(target: TlsTarget): Promise<DirectoryConn> {
  const lines = newLineBuffer(MAX_DIRECTORY_LINE_CHARS);
  let greeted: () => void = () => {};
  const greeting = new Promise<void>((r) => (greeted = r));
  let waiting: { resolve(answer: string): void; reject(e: Error): void } | undefined;
  let link: TlsLink | undefined;
  link = await connectTls(
    target,
    {
      data(chunk) {
        greeted();
        for (const line of pushChunk(lines, chunk)) {
          const w = waiting;
          waiting = undefined;
          w?.resolve(line.replace(/^@/, "").trim());
        }
      },
      closed(reason) {
        waiting?.reject(new Error(`directory connection closed: ${reason}`));
        waiting = undefined;
      },
    },
    DIRECTORY_CONNECT_TIMEOUT_MS,
  );
  await greeting;
  return {
    lookup(name) {
      if (waiting) return Promise.reject(new Error("one lookup at a time per connection"));
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        if (!link!.write(`${name}\n`)) reject(new Error("directory connection is closed"));
      });
    },
    close() {
      link?.write("@exit\n");
      link?.close();
    },
  };
}
