/**
 * A hand-written atServer for server-to-server tests: registered in a stack's directory under an @sign, it
 * greets with `@` and hands every request line to the test, which answers with exactly the bytes it wants.
 * It plays an attacker's server, or a reference server (bare UUID challenges, proofs signed as the reference
 * signs them), where a real Inlay server would not do what the test needs.
 */
import type { Socket } from "bun";
import { serviceTls } from "../../core/net/tls.ts";
import { registerInDirectory } from "../../server/registration.ts";
import { STACK_HOST, type Stack } from "../harness.ts";

/** Longest request line the fake peer buffers. */
const FAKE_PEER_LINE_MAX_BYTES = 64 * 1024;

/** One connection to the fake peer. */
export interface FakeConnection {
  /** Writes `text` and the `@` prompt (an answer line). */
  answer(text: string): void;
  /** Writes `text` as it is (a `pol` answer has no newline). */
  raw(text: string): void;
  close(): void;
}

/** The running fake peer. */
export interface FakePeer {
  atSign: string;
  port: number;
  /** Lines received, over every connection, in order. */
  lines: string[];
  /** Resolves once a line matching `pred` arrived, or with null once a connection closed without one. */
  nextLine(pred: (line: string) => boolean): Promise<string | null>;
  stop(): void;
}

/**
 * Starts the fake peer of `atSign` in `stack` (certificate from the stack's dev CA, as every server's).
 * @example const carol = await startFakePeer(stack, "@carol", (line, c) => c.answer("data:null"));
 */
export async function startFakePeer(stack: Stack, atSign: string, onLine: (line: string, conn: FakeConnection) => void | Promise<void>): Promise<FakePeer> {
  const tls = await serviceTls({ home: stack.home });
  const lines: string[] = [];
  const watchers = new Set<{ pred: (line: string) => boolean; done: (line: string | null) => void }>();
  const buffers = new WeakMap<Socket<undefined>, string>();
  const wrap = (s: Socket<undefined>): FakeConnection => ({
    answer: (text) => void s.write(`${text}\n@`),
    raw: (text) => void s.write(text),
    close: () => s.end(),
  });
  const listener = Bun.listen<undefined>({
    hostname: STACK_HOST,
    port: 0,
    tls: { key: tls.key, cert: tls.cert },
    socket: {
      open(s) {
        buffers.set(s, "");
        s.write("@");
      },
      async data(s, chunk) {
        const parts = ((buffers.get(s) ?? "") + new TextDecoder().decode(chunk)).split("\n");
        buffers.set(s, parts.pop()!);
        if (buffers.get(s)!.length > FAKE_PEER_LINE_MAX_BYTES) return void s.end();
        for (const part of parts) {
          const line = part.replace(/\r$/, "");
          lines.push(line);
          for (const w of watchers) if (w.pred(line)) w.done(line);
          await onLine(line, wrap(s));
        }
      },
      close() {
        for (const w of watchers) w.done(null);
      },
    },
  });
  await registerInDirectory({ url: stack.directory.adminUrl, token: stack.directory.token }, atSign, STACK_HOST, listener.port);
  return {
    atSign,
    port: listener.port,
    lines,
    nextLine: (pred) =>
      new Promise((resolve) => {
        const w = {
          pred,
          done: (line: string | null) => {
            watchers.delete(w);
            resolve(line);
          },
        };
        watchers.add(w);
      }),
    stop: () => listener.stop(true),
  };
}
