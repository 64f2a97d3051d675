import { expect, test } from "bun:test";
import { flush, newWriteQueue, send, type Writable } from "./write_queue.ts";

/** A socket stand-in that takes at most `room` bytes per write, like a kernel buffer filling up. */
function fakeSocket(room: number) {
  const got: number[] = [];
  const s: Writable & { room: number; closed: boolean } = {
    room,
    closed: false,
    write(d) {
      if (this.closed) return -1;
      const b = typeof d === "string" ? new TextEncoder().encode(d) : d;
      const n = Math.min(this.room, b.byteLength);
      got.push(...b.subarray(0, n));
      this.room -= n;
      return n;
    },
  };
  return { s, got };
}

test("partial writes keep the tail in order and flush on drain", () => {
  const { s, got } = fakeSocket(3);
  const q = newWriteQueue(100);
  expect(send(s, q, Uint8Array.of(1, 2, 3, 4, 5))).toBe("queued");
  expect(send(s, q, Uint8Array.of(6))).toBe("queued");
  expect(q.bytes).toBe(3);
  s.room = 2;
  expect(flush(s, q)).toBe(false);
  s.room = 10;
  expect(flush(s, q)).toBe(true);
  expect(got).toEqual([1, 2, 3, 4, 5, 6]);
  expect(q.bytes).toBe(0);
});

test("overflow is reported past the limit and closed sockets say so", () => {
  const { s } = fakeSocket(0);
  const q = newWriteQueue(4);
  expect(send(s, q, Uint8Array.of(1, 2, 3, 4))).toBe("queued");
  expect(send(s, q, Uint8Array.of(5))).toBe("overflow");
  s.closed = true;
  expect(send(s, newWriteQueue(), "x")).toBe("closed");
});
