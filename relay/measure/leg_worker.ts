/**
 * One side of many relay sessions, for measurements.
 * Run: `bun relay/measure/leg_worker.ts PORT a|b COUNT idle|send|recv|send-sealed|recv-sealed PRIVATE_KEY_B64 RUN_ID`;
 * prints `{"ready":COUNT}` once every leg is paired and `{"bytes":N}` for each stdin line, then exits when stdin closes.
 * The `-sealed` modes put tunnel records (core/crypto/tunnel/record.ts, a fixed test key) on the wire and count
 * plaintext bytes.
 */
import { newOpener, newSealer, open, seal, type TunnelOpener, type TunnelSealer } from "../../core/crypto/tunnel/record.ts";
import { dialRelay, type RelayLegSocket } from "../../core/relay/dial_relay.ts";

type Mode = "idle" | "send" | "recv" | "send-sealed" | "recv-sealed";
const [portText, side, countText, mode, privateKey, runId] = process.argv.slice(2) as [string, "a" | "b", string, Mode, string, string];
const sealed = mode.endsWith("-sealed");
const testKey = new Uint8Array(32).fill(7);
const sealers = new Map<RelayLegSocket, { sealer: TunnelSealer; pending: Uint8Array | null }>();
const openers = new Map<RelayLegSocket, TunnelOpener>();
const plainBlock = new Uint8Array(512 * 1024);
const count = Number(countText);
const CONNECTS_IN_FLIGHT = 200;
const block = new Uint8Array(64 * 1024);
let bytes = 0;
const legs: RelayLegSocket[] = [];

function pump(s: RelayLegSocket): void {
  if (!sealed) {
    while (s.write(block) === block.byteLength) bytes += block.byteLength;
    return;
  }
  // Records must arrive whole, so the unwritten tail of a sealed block is kept and written first.
  let st = sealers.get(s);
  if (!st) sealers.set(s, (st = { sealer: newSealer(testKey), pending: null }));
  for (;;) {
    if (!st.pending) {
      st.pending = seal(st.sealer, plainBlock);
      bytes += plainBlock.byteLength;
    }
    const n = s.write(st.pending);
    if (n < 0) return;
    if (n < st.pending.byteLength) {
      st.pending = st.pending.subarray(n);
      return;
    }
    st.pending = null;
  }
}

let next = 0;
async function connector(): Promise<void> {
  while (next < count) {
    const i = next++;
    const leg = await dialRelay({
      host: "127.0.0.1",
      port: Number(portText),
      sessionId: `${runId}.${i}`,
      side,
      atSign: side === "a" ? "@a" : "@b",
      peerAtSign: side === "a" ? "@b" : "@a",
      key: { algo: "ed25519", privateKey },
      timeoutMs: 120_000,
      handlers: {
        data(s, chunk) {
          if (!sealed) {
            bytes += chunk.byteLength;
            return;
          }
          let o = openers.get(s);
          if (!o) openers.set(s, (o = newOpener(testKey)));
          open(o, chunk, (p) => (bytes += p.byteLength));
        },
        drain(s) {
          if (mode.startsWith("send")) pump(s);
        },
      },
    });
    legs.push(leg);
  }
}
await Promise.all(Array.from({ length: Math.min(CONNECTS_IN_FLIGHT, count) }, connector));
console.log(JSON.stringify({ ready: legs.length }));
if (mode.startsWith("send")) for (const s of legs) pump(s);
for await (const _ of console) {
  // any line: report progress
  console.log(JSON.stringify({ bytes }));
}
console.log(JSON.stringify({ bytes }));
for (const s of legs) s.end();
process.exit(0);
