/**
 * An in-process stand-in for the plain socket of a tunnel stream (client/tunnel/stream_pipe.ts), so HTTP can be
 * spoken over the stream with web streams instead of a loopback socket:
 *
 *   peer → pipe → sock.write() → `readable`        (a full `readable` refuses the write: the pipe pauses the leg,
 *                                                    and is told to drain once the reader pulled)
 *   `write()` → events.data() → pipe → peer         (waits while the pipe has paused us: its leg queue is full)
 *
 * Memory per stream is bounded by READABLE_HIGH_WATER_BYTES plus what the pipe holds (about one chunk).
 */
import type { LocalStream } from "../../tunnel/tunnel_client.ts";
import type { PipeSocket } from "../../tunnel/stream_pipe.ts";

/** Bytes from the peer held for the reader before further writes are refused (backpressure). */
export const READABLE_HIGH_WATER_BYTES = 256 * 1024;
/**
 * Largest piece handed to the pipe at once. Why: the pipe frees a whole-buffer chunk of 64 KiB or more after
 * sealing it (stream_pipe.ts `release`), and the bytes written here belong to the app; smaller views are kept.
 */
export const WRITE_PIECE_BYTES = 60 * 1024;

/** Both ends of the stand-in. */
export interface StreamSocket {
  /** Give this to the pipe as its plain socket. */
  sock: PipeSocket;
  /** What the peer sent; closes at the peer's END, errors when the stream is aborted. */
  readable: ReadableStream<Uint8Array>;
  /** Sends bytes to the peer; resolves once the pipe took them (waits while it is paused). Throws once the stream is gone. */
  write(bytes: Uint8Array): Promise<void>;
  /** FIN toward the peer (after what was written). */
  end(): void;
  /** Ends the stream at once (the peer sees an abort, not a clean end). */
  abort(): void;
  /** Resolves when the stream is over (ended or aborted). */
  done: Promise<void>;
  /** Resolves when the peer's END arrived (all it will send is in `readable`). */
  peerEnded: Promise<void>;
}

/** The stream is gone (aborted, or ended while a write waited). */
export class StreamGoneError extends Error {
  override name = "StreamGoneError";
}

/**
 * A stand-in whose app side is reported to `events` (the pipe's plain side, e.g. `Tunnel.stream(sock)` or a
 * LocalStream over plainData/plainEnd/…). Call `bind` with the events once they exist. With `abortOnCancel`, a
 * reader that cancels `readable` aborts the stream (a caller dropping a response); without, further bytes are
 * taken and dropped until the peer's END (an app that answers without reading the whole request). Why not
 * refuse them: closing a TCP socket with unread bytes sends a reset, which can cut off our own reply at the
 * relay; draining to the END lets the stream end cleanly.
 * @example const s = newStreamSocket(); s.bind(tunnel.stream(s.sock)); await s.write(bytes); s.end();
 */
export function newStreamSocket(opts: { abortOnCancel?: boolean } = {}): StreamSocket & { bind(events: LocalStream): void } {
  let events: LocalStream | null = null;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let readableOpen = true;
  let wantDrain = false;
  let paused = false;
  let gone = false;
  let wake: (() => void) | null = null;
  let discarding = false;
  let doneResolve!: () => void;
  const done = new Promise<void>((r) => (doneResolve = r));
  let peerEndedResolve!: () => void;
  const peerEnded = new Promise<void>((r) => (peerEndedResolve = r));

  const readable = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        if (!wantDrain) return;
        wantDrain = false;
        // Not from inside the reader's call: the pipe writes to us again from drain.
        queueMicrotask(() => events?.drain());
      },
      cancel() {
        readableOpen = false;
        if (opts.abortOnCancel) return abort();
        discarding = true;
        if (wantDrain) {
          wantDrain = false;
          queueMicrotask(() => events?.drain());
        }
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: READABLE_HIGH_WATER_BYTES }),
  );

  const closeReadable = (error?: Error) => {
    if (!readableOpen) return;
    readableOpen = false;
    if (error) controller.error(error);
    else controller.close();
  };
  const gone_ = (error?: Error) => {
    gone = true;
    closeReadable(error);
    wake?.();
    doneResolve();
  };

  function abort(): void {
    if (gone) return;
    events?.abort("aborted by the app");
    // Before the stream had its pipe, the abort only marks it: end this side now.
    gone_(new StreamGoneError("the stream was aborted"));
  }

  const sock: PipeSocket = {
    write(data: Uint8Array | string): number {
      const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
      if (discarding && !gone) return bytes.byteLength;
      if (gone || !readableOpen) return -1;
      if ((controller.desiredSize ?? 0) <= 0) {
        wantDrain = true;
        return 0;
      }
      // A copy: the pipe frees large buffers once written.
      controller.enqueue(bytes.slice());
      return bytes.byteLength;
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      wake?.();
    },
    shutdown() {
      closeReadable();
      peerEndedResolve();
      return 0;
    },
    end() {
      gone_(readableOpen ? new StreamGoneError("the stream ended before its response was complete") : undefined);
    },
    terminate() {
      gone_(new StreamGoneError("the stream was aborted"));
    },
  } as unknown as PipeSocket;

  return {
    sock,
    readable,
    done,
    peerEnded,
    bind(e) {
      events = e;
    },
    async write(bytes) {
      for (let off = 0; off < bytes.byteLength; off += WRITE_PIECE_BYTES) {
        while (paused && !gone) await new Promise<void>((r) => (wake = r));
        wake = null;
        if (gone) throw new StreamGoneError("the stream is gone");
        events!.data(bytes.subarray(off, Math.min(off + WRITE_PIECE_BYTES, bytes.byteLength)));
      }
    },
    end() {
      if (!gone) events?.end();
    },
    abort,
  };
}
