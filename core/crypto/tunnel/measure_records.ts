/**
 * Measures tunnel record throughput (seal and open, MB/s) for a few input chunk sizes.
 * Run: `bun core/crypto/tunnel/measure_records.ts [seconds-per-case]`. Prints one JSON line per case.
 */
import { randomBytes } from "node:crypto";
import { newOpener, newSealer, open, seal } from "./record.ts";

const seconds = Number(process.argv[2] ?? 2);
const key = randomBytes(32);
for (const chunkBytes of [16 * 1024, 64 * 1024, 512 * 1024]) {
  const input = randomBytes(chunkBytes);
  const sealer = newSealer(key);
  const opener = newOpener(key);
  let sealed = 0;
  let sealMs = 0;
  let openMs = 0;
  let opened = 0;
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const t0 = performance.now();
    const wire = seal(sealer, input);
    const t1 = performance.now();
    open(opener, wire, (p) => (opened += p.byteLength));
    const t2 = performance.now();
    sealMs += t1 - t0;
    openMs += t2 - t1;
    sealed += chunkBytes;
  }
  if (opened !== sealed) throw new Error("round trip lost bytes");
  const mbps = (bytes: number, ms: number) => Math.round(bytes / 1e6 / (ms / 1000));
  console.log(JSON.stringify({ chunkBytes, sealMBps: mbps(sealed, sealMs), openMBps: mbps(sealed, openMs), bytes: sealed }));
}
