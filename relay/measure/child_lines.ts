/**
 * Line-by-line talk with a measurement child process (JSON lines on its stdout, requests on its stdin).
 */
import type { Subprocess } from "bun";

/** A child with piped stdin and stdout. */
export type Piped = Subprocess<"pipe", "pipe", "inherit">;

const readers = new Map<Piped, { buf: string; reader: ReadableStreamDefaultReader<Uint8Array> }>();
const decoder = new TextDecoder();

/** Starts `cmd` with piped stdin/stdout (stderr shown). */
export function spawnPiped(cmd: string[]): Piped {
  return Bun.spawn(cmd, { stdin: "pipe", stdout: "pipe", stderr: "inherit" }) as Piped;
}

/** The child's next stdout line. */
export async function nextLine(p: Piped): Promise<string> {
  let r = readers.get(p);
  if (!r) {
    r = { buf: "", reader: p.stdout.getReader() as ReadableStreamDefaultReader<Uint8Array> };
    readers.set(p, r);
  }
  for (;;) {
    const nl = r.buf.indexOf("\n");
    if (nl >= 0) {
      const line = r.buf.slice(0, nl);
      r.buf = r.buf.slice(nl + 1);
      return line;
    }
    const { value, done } = await r.reader.read();
    if (done) throw new Error("child exited");
    r.buf += decoder.decode(value);
  }
}

/** Sends an empty line and parses the JSON line the child answers with. */
export async function ask<T>(p: Piped): Promise<T> {
  p.stdin.write("\n");
  await p.stdin.flush();
  return JSON.parse(await nextLine(p)) as T;
}
