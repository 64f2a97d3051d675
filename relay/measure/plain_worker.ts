/**
 * Plain TCP load for side-by-side runs (haproxy, direct): `sink` listens and counts bytes; `send PORT COUNT` opens
 * COUNT connections and writes 64 KiB blocks as fast as each takes them. Prints `{"port":N}` / `{"ready":N}`, then
 * `{"bytes":N}` for every line read on stdin; exits when stdin closes.
 * Run: `bun relay/measure/plain_worker.ts sink` or `bun relay/measure/plain_worker.ts send PORT COUNT`.
 */
import type { Socket } from "bun";

const [mode, portText, countText] = process.argv.slice(2);
const block = new Uint8Array(64 * 1024);
let bytes = 0;
const sockets: Socket<undefined>[] = [];
const pump = (s: Socket<undefined>) => {
  while (s.write(block) === block.byteLength) bytes += block.byteLength;
};

if (mode === "sink") {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: (_s, c) => void (bytes += c.byteLength), error() {} } });
  console.log(JSON.stringify({ port: l.port }));
} else {
  const count = Number(countText);
  for (let i = 0; i < count; i++) {
    sockets.push(await Bun.connect({ hostname: "127.0.0.1", port: Number(portText), socket: { data() {}, drain: pump, error() {} } }));
  }
  console.log(JSON.stringify({ ready: count }));
  for (const s of sockets) pump(s);
}
for await (const _ of console) console.log(JSON.stringify({ bytes }));
for (const s of sockets) s.end();
process.exit(0);
