/**
 * One side of many relay sessions, for measurements.
 * Run: `bun relay/measure/leg_worker.ts PORT a|b COUNT idle|send|recv PRIVATE_KEY_B64`; prints `{"ready":COUNT}` once
 * every leg is paired and `{"bytes":N}` when stdin closes (then exits).
 */
import { dialRelay, type RelayLegSocket } from "../../core/relay/dial_relay.ts";

const [portText, side, countText, mode, privateKey] = process.argv.slice(2) as [string, "a" | "b", string, "idle" | "send" | "recv", string];
const count = Number(countText);
const CONNECTS_IN_FLIGHT = 200;
const block = new Uint8Array(64 * 1024);
let bytes = 0;
const legs: RelayLegSocket[] = [];

function pump(s: RelayLegSocket): void {
  while (s.write(block) === block.byteLength) bytes += block.byteLength;
}

let next = 0;
async function connector(): Promise<void> {
  while (next < count) {
    const i = next++;
    const leg = await dialRelay({
      host: "127.0.0.1",
      port: Number(portText),
      sessionId: `measure-${i}-session`,
      side,
      atSign: side === "a" ? "@a" : "@b",
      peerAtSign: side === "a" ? "@b" : "@a",
      key: { algo: "ed25519", privateKey },
      timeoutMs: 120_000,
      handlers: {
        data(_s, chunk) {
          bytes += chunk.byteLength;
        },
        drain(s) {
          if (mode === "send") pump(s);
        },
      },
    });
    legs.push(leg);
  }
}
await Promise.all(Array.from({ length: Math.min(CONNECTS_IN_FLIGHT, count) }, connector));
console.log(JSON.stringify({ ready: legs.length }));
if (mode === "send") for (const s of legs) pump(s);
for await (const _ of console) {
  // any line: report progress
  console.log(JSON.stringify({ bytes }));
}
console.log(JSON.stringify({ bytes }));
for (const s of legs) s.end();
process.exit(0);
